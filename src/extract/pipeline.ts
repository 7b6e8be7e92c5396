import { Counters } from "../core/stats.js";
import type { ExtractOptions, ExtractOutcome, FirstPassMark, Outside } from "./extract.js";
import { checkText } from "./filters.js";
import type { RawDoc } from "./inputs.js";
import type { LangId } from "./lang.js";
import type { Extractor } from "./pool.js";
import type { ExtractDrop } from "./reasons.js";

/** An extracted document: what the classifier scores and the shards keep. */
export interface Doc {
  id: string;
  url: string;
  title: string;
  text: string;
  lang: string;
  langConfidence: number;
  charset: string;
  truncated: boolean;
  meta?: Record<string, unknown>;
  /** Classifier feature hashes, when the extraction options asked for them. */
  features?: Uint32Array;
  /** The input's location-free identity (RawDoc.key), for the held-out split. */
  key?: string;
  /** The first pass's score and signals, where the candidate pool's gate was on (ExtractOptions.firstPass). */
  firstPass?: FirstPassMark;
  /**
   * Left outside the candidate pool by the gate: not extracted, no language; `text` and `title`
   * are empty. Only with a gate.
   */
  outside?: Outside;
}

export interface PipelineOptions extends ExtractOptions {
  /** Keep only these languages (empty: all). */
  langs: string[];
  /** Pages in flight at once (bounds memory; enough to keep every worker busy). */
  window: number;
  onDrop?: (doc: RawDoc, reason: ExtractDrop, message?: string) => void;
}

export class ExtractStats {
  seen = 0;
  kept = 0;
  /** Pages the candidate pool's gate left outside (also in `kept`: they are stored, as small rows). */
  outside = 0;
  chars = 0;
  readonly dropped = new Counters<ExtractDrop>();
  readonly langs = new Counters<string>();

  toJSON(): Record<string, unknown> {
    return { seen: this.seen, kept: this.kept, ...(this.outside ? { outside: this.outside } : {}), chars: this.chars, dropped: this.dropped.toJSON(), langs: this.langs.toJSON() };
  }
}

type Out = { doc: Doc } | { drop: ExtractDrop; message?: string; raw: RawDoc };

async function one(raw: RawDoc, extractor: Extractor, lang: LangId, opts: PipelineOptions): Promise<Out> {
  if (raw.text !== undefined) {
    const bad = checkText(raw.text, 0, opts.filters);
    if (bad) return { drop: bad, raw };
    const [l] = await lang.identify([raw.text]);
    return languageOf(raw, { text: raw.text, title: typeof raw.meta?.title === "string" ? raw.meta.title : "", charset: "utf-8", truncated: false }, l!, opts);
  }
  return complete(raw, await extractor.extract({ body: raw.body, contentType: raw.contentType }), lang, opts);
}

/** What extraction made of a page (`r`, from a worker) as a document: its language identified, or its drop. */
async function complete(raw: RawDoc, r: ExtractOutcome, lang: LangId, opts: PipelineOptions): Promise<Out> {
  if ("drop" in r) return { drop: r.drop, ...(r.message ? { message: r.message } : {}), raw };
  if ("outside" in r) {
    const o = r.outside;
    return { doc: { id: raw.id, url: raw.url, title: "", text: "", lang: "", langConfidence: 0, charset: o.charset, truncated: false, outside: o, ...(raw.key ? { key: raw.key } : {}) } };
  }
  const title = (typeof raw.meta?.title === "string" ? raw.meta.title : "") || r.ok.title;
  const [l] = await lang.identifyLines([r.ok.lidLine]);
  return languageOf(raw, { ...r.ok, title }, l!, opts);
}

function languageOf(raw: RawDoc, x: { text: string; title: string; charset: string; truncated: boolean; features?: Uint32Array; firstPass?: FirstPassMark }, l: { lang: string; confidence: number }, opts: PipelineOptions): Out {
  if (opts.langs.length > 0 && !opts.langs.includes(l.lang)) return { drop: "lang_excluded", raw };
  return {
    doc: { id: raw.id, url: raw.url, title: x.title, text: x.text, lang: l.lang, langConfidence: l.confidence, charset: x.charset, truncated: x.truncated, ...(raw.meta ? { meta: raw.meta } : {}), ...(x.features ? { features: x.features } : {}), ...(raw.key ? { key: raw.key } : {}), ...(x.firstPass ? { firstPass: x.firstPass } : {}) },
  };
}

/**
 * Documents in input order, with up to `window` in flight: `work` makes each input's outcome
 * (extraction on the workers, language id).
 */
async function* ordered<T>(inputs: AsyncIterable<T>, work: (t: T) => Promise<Out>, opts: PipelineOptions, stats: ExtractStats): AsyncGenerator<Doc> {
  const inflight: Array<Promise<Out>> = [];
  const settle = (o: Out): Doc | undefined => {
    if ("doc" in o) {
      stats.kept++;
      if (o.doc.outside) {
        stats.outside++;
        return o.doc;
      }
      stats.chars += o.doc.text.length;
      stats.langs.add(o.doc.lang);
      return o.doc;
    }
    stats.dropped.add(o.drop);
    opts.onDrop?.(o.raw, o.drop, o.message);
    return undefined;
  };
  for await (const x of inputs) {
    stats.seen++;
    const p = work(x);
    p.catch(() => {}); // awaited in order below; this only keeps an early failure from being "unhandled"
    inflight.push(p);
    if (inflight.length >= opts.window) {
      const d = settle(await inflight.shift()!);
      if (d) yield d;
    }
  }
  while (inflight.length > 0) {
    const d = settle(await inflight.shift()!);
    if (d) yield d;
  }
}

/**
 * Documents of pages already extracted on the workers (extract/ranges.ts: each worker read its
 * own range of a file), in input order: language id, filters and counts as `extractDocs`.
 */
export function completeDocs(items: AsyncIterable<{ raw: RawDoc; out: ExtractOutcome }>, lang: LangId, opts: PipelineOptions, stats: ExtractStats): AsyncGenerator<Doc> {
  return ordered(items, (x) => complete(x.raw, x.out, lang, opts), opts, stats);
}

/**
 * Extracts documents in input order, with up to `window` in flight across the worker
 * threads and the language-id process.
 */
export function extractDocs(inputs: AsyncIterable<RawDoc>, extractor: Extractor, lang: LangId, opts: PipelineOptions, stats: ExtractStats): AsyncGenerator<Doc> {
  return ordered(inputs, (raw) => one(raw, extractor, lang, opts), opts, stats);
}
