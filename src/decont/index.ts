import crypto from "node:crypto";
import fs from "node:fs";
import { InputError } from "../core/errors.js";
import { DEFAULT_FIELDS, type FieldSpec, benchmarkFiles, benchmarkName, readBenchmark } from "./files.js";
import { type Tokens, ngramKey, normTokens, wordCount } from "./ngrams.js";

export { DEFAULT_FIELDS, type FieldSpec, readBenchmark } from "./files.js";

/**
 * Benchmark decontamination as DeepSeekMath did it: a page sharing any 10-gram (of normalised
 * tokens) with a benchmark question or answer is contaminated; a text of 3 to 9 tokens must
 * appear as a whole token sequence. Texts under 3 tokens are ignored: answers such as "18",
 * "D" or "x = 2" occur on countless unrelated pages, so matching them removes noise, not leaks.
 */
export const NGRAM = 10;
export const MIN_EXACT = 3;
/**
 * A benchmark 10-gram needs this many word tokens (not numbers) to be indexed, and a short text
 * at least half words, two of them content words: number runs ("1 2 3", Pascal's triangle) and
 * function-word phrases ("we have that 1") are everywhere.
 */
export const MIN_WORDS_NGRAM = 4;

export interface BenchmarkItem {
  benchmark: string;
  item: string;
  field: string;
}

export interface Match {
  benchmark: string;
  item: string;
  field: string;
  kind: "10-gram" | "exact";
  /** Character span in the page and the matched text. */
  start: number;
  end: number;
  text: string;
}

export class BenchmarkIndex {
  private readonly grams = new Map<number, number>();
  /** Exact short sequences by length. */
  private readonly short = new Map<number, Map<number, number>>();
  readonly items: BenchmarkItem[] = [];
  readonly counts = { items: 0, texts: 0, ngrams: 0, short: 0, ignored: 0 };
  /** Of every text added, in order: two indexes built from the same benchmarks have the same digest. */
  private readonly hash = crypto.createHash("sha256");

  add(benchmark: string, texts: Array<{ id: string; field: string; text: string }>): void {
    const seen = new Set<string>();
    for (const t of texts) {
      this.hash.update(JSON.stringify([benchmark, t.id, t.field, t.text]));
      const itemNo = this.items.push({ benchmark, item: t.id, field: t.field }) - 1;
      if (!seen.has(t.id)) this.counts.items++;
      seen.add(t.id);
      this.counts.texts++;
      const tok = normTokens(t.text);
      if (tok.length >= NGRAM) {
        for (let i = 0; i + NGRAM <= tok.length; i++) {
          if (wordCount(tok, i, NGRAM) < MIN_WORDS_NGRAM) continue;
          const k = ngramKey(tok.hashes, i, NGRAM);
          if (!this.grams.has(k)) this.grams.set(k, itemNo);
        }
        this.counts.ngrams = this.grams.size;
      } else if (tok.length >= MIN_EXACT && wordCount(tok, 0, tok.length) >= tok.length / 2 && wordCount(tok, 0, tok.length, true) >= 2) {
        let m = this.short.get(tok.length);
        if (!m) this.short.set(tok.length, (m = new Map()));
        m.set(ngramKey(tok.hashes, 0, tok.length), itemNo);
        this.counts.short++;
      } else {
        this.counts.ignored++;
      }
    }
  }

  /** The first benchmark match in a text, or undefined. */
  scan(text: string, tok: Tokens = normTokens(text)): Match | undefined {
    const h = tok.hashes;
    const lengths = [...this.short.keys()];
    for (let i = 0; i < tok.length; i++) {
      if (i + NGRAM <= tok.length) {
        const hit = this.grams.get(ngramKey(h, i, NGRAM));
        if (hit !== undefined) return this.match(hit, "10-gram", text, tok, i, NGRAM);
      }
      for (const L of lengths) {
        if (i + L > tok.length) continue;
        const hit = this.short.get(L)!.get(ngramKey(h, i, L));
        if (hit !== undefined) return this.match(hit, "exact", text, tok, i, L);
      }
    }
    return undefined;
  }

  /** What the index was built from, as a hex digest (a cleaning task checks it builds the coordinator's index). */
  digest(): string {
    return this.hash.copy().digest("hex");
  }

  private match(itemNo: number, kind: Match["kind"], text: string, tok: Tokens, i: number, n: number): Match {
    const it = this.items[itemNo]!;
    const start = tok.starts[i]!;
    const end = tok.ends[i + n - 1]!;
    return { ...it, kind, start, end, text: text.slice(start, end) };
  }
}

/** Every benchmark file under a folder into the index; the benchmark name is the file's path (files.ts). */
export async function loadBenchmarkDir(dir: string, index: BenchmarkIndex, fields: FieldSpec = DEFAULT_FIELDS): Promise<string[]> {
  const names: string[] = [];
  for (const { name, file } of benchmarkFiles(dir)) {
    index.add(name, await readBenchmark(file, fields));
    names.push(name);
  }
  return names;
}

/** Benchmark files or folders of them (as `loadBenchmarkDir`) into the index; their names. */
export async function loadBenchmarks(paths: string[], index: BenchmarkIndex, fields: FieldSpec = DEFAULT_FIELDS): Promise<string[]> {
  const names: string[] = [];
  for (const p of paths) {
    if (fs.existsSync(p) && fs.statSync(p).isDirectory()) {
      const found = await loadBenchmarkDir(p, index, fields);
      if (found.length === 0) throw new InputError(`${p}: no benchmark files in this folder (JSONL, JSON, CSV, TSV, Parquet)`);
      names.push(...found);
    } else {
      index.add(benchmarkName(p), await readBenchmark(p, fields));
      names.push(benchmarkName(p));
    }
  }
  return names;
}
