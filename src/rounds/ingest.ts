import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../core/log.js";
import { formatBytes, formatDuration, formatRate } from "../core/progress.js";
import { normalizeUrl } from "../dedup/url.js";
import type { LangId } from "../extract/lang.js";
import { ExtractStats, completeDocs, extractDocs } from "../extract/pipeline.js";
import type { ExtractOutcome } from "../extract/extract.js";
import { type PageInfo, RangeFallback, RangeFeed, workerSource } from "../extract/ranges.js";
import type { Extractor } from "../extract/pool.js";
import type { Doc, PipelineOptions } from "../extract/pipeline.js";
import type { RawDoc } from "../extract/inputs.js";
import type { RecordPlace, RereadOptions } from "../warc/reread.js";
import { type WarcIssue, WarcStats, readPages } from "../warc/pages.js";
import type { WarcSource } from "../warc/source.js";
import type { DocRow, WorkStore } from "../store/store.js";
import { docId } from "../store/stores.js";

export interface IngestStats {
  files: number;
  /** Sources that could not be read to their end: not stored, retried by a rerun. */
  failed: string[];
  skipped: number;
  pages: number;
  kept: number;
  urlDups: number;
  warc: WarcStats;
  extract: ExtractStats;
  /** Seconds spent on the candidate pool's gate (its sample and training) before the first page was stored. */
  gateSeconds?: number;
  /** Of which this thread was busy (the seeds' texts, the bar's calibration): a cost per run, not per page. */
  gateMainSeconds?: number;
}

/** Statistics of a crawl that has read nothing yet. */
export const emptyIngest = (): IngestStats => ({ files: 0, failed: [], skipped: 0, pages: 0, kept: 0, urlDups: 0, warc: new WarcStats(), extract: new ExtractStats() });

/** The crawl so far (for a progress line). */
export interface CrawlTick {
  /** Files finished in this invocation (stored or failed). */
  files: number;
  pages: number;
  kept: number;
  /** Compressed bytes read in this invocation. */
  bytes: number;
}

export interface IngestOptions {
  maxRecordBytes: number;
  pipeline: Omit<PipelineOptions, "onDrop">;
  logger: Logger;
  onIssue?: (message: string) => void;
  onProgress?: (s: IngestStats) => void;
  /** After every stored page: the crawl so far, the file being read included. */
  onTick?: (t: CrawlTick) => void;
  signal?: AbortSignal;
  /**
   * A source's number in the run's plan: documents then get the plan's ids (store/stores
   * `docId`), the same whichever task stores them. Absent: SQLite's ids (runs begun before plans).
   */
  fileNo?: (name: string) => number | undefined;
  /** Size of the ranges local files are read in on the workers (extract/ranges.ts; tests make it small). */
  rangeBytes?: number;
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "/";
  }
}

/**
 * A page as the extraction pipeline takes it; its id is the page's doc_key (WARC file @ offset).
 * A page extracted on a worker already (extract/ranges.ts) comes without its bytes.
 */
export function rawDoc(p: PageInfo & { body?: Buffer }): RawDoc {
  return { id: `${p.warcFile}@${p.offset}`, url: p.url, body: p.body ?? "", contentType: p.contentType };
}

/** The stored row of page `p`, extracted as `d` (`id`: the plan's document id, where there is a plan). */
export function docRow(p: PageInfo, d: Doc, norm: string, id?: number): DocRow {
  // the gate's marks: a page outside the pool carries them as a candidate does
  const mark = d.firstPass ?? d.outside;
  return {
    docKey: d.id,
    recordId: p.recordId,
    url: p.url,
    urlNorm: norm,
    host: p.host,
    domain: p.domain,
    path: pathOf(p.url),
    warcFile: p.warcFile,
    warcOffset: p.offset,
    warcLength: p.length,
    offsetKind: p.offsetKind,
    fetchDate: p.date,
    lang: d.lang,
    langConf: d.langConfidence,
    title: d.title,
    text: d.text,
    // a page outside the candidate pool: its cheap text's hash (exact copies among such pages)
    contentHash: d.outside ? d.outside.hash : crypto.createHash("sha1").update(d.text).digest("hex"),
    ...(d.features ? { features: d.features } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(d.outside ? { extracted: false } : {}),
    ...(mark ? { firstPass: mark.score, signals: mark.signals } : {}),
  };
}

/**
 * A stored page read again by its place (warc/reread.ts) and extracted as the crawl extracts it
 * (the same extraction on a worker, then the same pipeline and options): its row, the reason
 * the pipeline drops it, or why it could not be read (`failed`: the file gone or changed).
 */
export async function rereadLikeCrawl(place: RecordPlace, extractor: Extractor, lang: LangId, pipeline: Omit<PipelineOptions, "onDrop">, reread: RereadOptions, id?: number): Promise<{ row: DocRow } | { dropped: string } | { failed: string }> {
  const x = await extractor.extractAt(place, reread);
  if ("error" in x) return { failed: x.error };
  const page = x.page;
  if (!page) return { dropped: "drop" in x.out ? x.out.drop : "unknown" };
  const ex = new ExtractStats();
  let dropped = "";
  const one = async function* () {
    yield { raw: rawDoc(page), out: x.out };
  };
  for await (const d of completeDocs(one(), lang, { ...pipeline, onDrop: (_d, reason) => (dropped = reason) }, ex)) return { row: docRow(page, d, normalizeUrl(page.url), id) };
  return { dropped: dropped || "unknown" };
}

/**
 * Round 1's crawl: every source file not yet done is streamed, extracted and stored with its
 * done mark in one transaction (a killed run redoes at most the file it was in). Pages whose
 * normalised URL is already stored are dropped as url_dup.
 */
export async function ingest(sources: WarcSource[], store: WorkStore, extractor: Extractor, lang: LangId, o: IngestOptions): Promise<IngestStats> {
  const total = emptyIngest();
  const todo = sources.filter((s) => !store.isFileDone(s.name));
  // local files and HTTP files (workerSource) are read in ranges on the workers, a few ranges
  // ahead of the one being stored
  const local = extractor.threads > 0 ? todo.filter((s) => workerSource(s) !== undefined) : [];
  const feed = local.length > 0 ? new RangeFeed(extractor, local, { maxRecordBytes: o.maxRecordBytes, rangeBytes: o.rangeBytes, logger: o.logger }) : undefined;
  try {
    for (const source of sources) {
      if (o.signal?.aborted) break;
      if (store.isFileDone(source.name)) {
        total.skipped++;
        continue;
      }
      const k = feed ? local.indexOf(source) : -1;
      const ranged = k >= 0 && (await feed!.readable(k));
      let f: FileIngest;
      try {
        f = await ingestFile(source, store, extractor, lang, o, total, ranged ? { feed: feed!, k } : undefined);
      } catch (err) {
        if (!(err instanceof RangeFallback)) throw err;
        o.logger.log("warn", "range_fallback", { file: source.name, message: err.message });
        f = await ingestFile(source, store, extractor, lang, o, total, undefined);
      }
      const { warc, ex, kept, urlDups } = f;
      if (warc.filesFailed > 0) {
        total.failed.push(source.name);
        total.warc.merge(warc);
        continue;
      }
      total.files++;
      total.pages += warc.pages;
      total.kept += kept;
      total.urlDups += urlDups;
      total.warc.merge(warc);
      total.extract.seen += ex.seen;
      total.extract.kept += ex.kept;
      total.extract.outside += ex.outside;
      total.extract.chars += ex.chars;
      total.extract.dropped.merge(ex.dropped);
      total.extract.langs.merge(ex.langs);
      o.logger.log("info", "file_ingested", { file: source.name, pages: warc.pages, kept, url_dups: urlDups });
      o.onProgress?.(total);
    }
  } finally {
    feed?.close();
  }
  return total;
}

interface FileIngest {
  warc: WarcStats;
  ex: ExtractStats;
  kept: number;
  urlDups: number;
}

/**
 * One source file streamed, extracted and stored with its done mark in one transaction; a file
 * that could not be read to its end is rolled back (`warc.filesFailed`). Pages are read and
 * extracted on the main thread's reader and the workers (`ranged` absent), or read and extracted
 * in ranges on the workers (`ranged`: the file's place in the RangeFeed).
 */
async function ingestFile(source: WarcSource, store: WorkStore, extractor: Extractor, lang: LangId, o: IngestOptions, total: IngestStats, ranged: { feed: RangeFeed; k: number } | undefined): Promise<FileIngest> {
  const warc = new WarcStats();
  const ex = new ExtractStats();
  // pages in flight, with their normalised URL (computed once, for dedup and the row)
  const pages = new Map<string, { page: PageInfo; norm: string; n: number }>();
  // the page's place among the file's HTML pages, from 1, whatever happens to the pages before it
  let pageNo = 0;
  let urlDups = 0;
  let kept = 0;
  const seenUrls = new Set<string>();
  const stored = store.db.prepare("SELECT 1 FROM documents WHERE url_norm = ?");
  /** URL dedup before any extraction work: a URL already stored or seen in this file. */
  const fresh = (p: PageInfo): RawDoc | undefined => {
    pageNo++;
    const norm = normalizeUrl(p.url);
    if (seenUrls.has(norm) || stored.get(norm) !== undefined) {
      urlDups++;
      return undefined;
    }
    seenUrls.add(norm);
    const r = rawDoc(p);
    pages.set(r.id, { page: p, norm, n: pageNo });
    return r;
  };
  async function* raw(): AsyncGenerator<RawDoc> {
    for await (const p of readPages(source, { maxRecordBytes: o.maxRecordBytes, logger: o.logger, onIssue: (i) => o.onIssue?.(i.message) }, warc)) {
      const r = fresh(p);
      if (r) yield r;
    }
  }
  async function* extracted(feed: RangeFeed, k: number): AsyncGenerator<{ raw: RawDoc; out: ExtractOutcome }> {
    const onIssue = (i: WarcIssue) => {
      o.logger.log("warn", "warc_issue", { ...i });
      o.onIssue?.(i.message);
    };
    for await (const { page, out } of feed.pages(k, warc, onIssue)) {
      const r = fresh(page);
      if (r) yield { raw: r, out: out! };
    }
  }
  const fileNo = o.fileNo?.(source.name);
  store.beginFile();
  try {
    // a page that broke its bounds (time, memory) or the extractor is logged with its URL
    const onDrop = (d: { url?: string; id: string }, reason: string, message?: string) => {
      if (!message || !reason.startsWith("extract_")) return;
      o.logger.log("warn", "extract_drop", { url: d.url, reason, message });
      o.onIssue?.(`${d.url ?? d.id}: ${reason}: ${message}`);
    };
    const popts = { ...o.pipeline, onDrop };
    const docs = ranged ? completeDocs(extracted(ranged.feed, ranged.k), lang, popts, ex) : extractDocs(raw(), extractor, lang, popts, ex);
    for await (const d of docs) {
      const { page: p, norm, n } = pages.get(d.id)!;
      pages.delete(d.id);
      const row = docRow(p, d, norm, fileNo !== undefined ? docId(fileNo, n) : undefined);
      if (store.addDoc(row)) kept++;
      else urlDups++;
      o.onTick?.({ files: total.files + total.failed.length, pages: total.pages + warc.pages, kept: total.kept + kept, bytes: total.warc.bytesIn + warc.bytesIn });
      if (o.signal?.aborted) throw new Error("interrupted");
    }
    pages.clear();
    if (warc.filesFailed > 0) {
      // unreadable to its end (network, not a WARC): nothing of it is kept, a rerun retries it
      store.rollback();
      return { warc, ex, kept, urlDups };
    }
    store.addDrops(source.name, "warc", warc.dropped.toJSON());
    store.addDrops(source.name, "extract", { ...ex.dropped.toJSON(), ...(urlDups ? { url_dup: urlDups } : {}) });
    store.commitFile(source.name, { pages: warc.pages, kept, urlDups, stats: { warc: warc.toJSON(), extract: ex.toJSON() } });
  } catch (err) {
    store.rollback();
    throw err;
  }
  return { warc, ex, kept, urlDups };
}

/** A local file's size, or null for URLs and files that cannot be read (for ETAs and balancing a plan by size). */
export function localSize(name: string, cwd: string): number | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) return null;
  try {
    return fs.statSync(path.resolve(cwd, name)).size;
  } catch {
    return null;
  }
}

/**
 * The crawl's progress line: files, pages, pages kept, rates and an ETA — by bytes when every
 * file to read is local (its size is known), else by files once one is done.
 */
export function crawlProgress(names: string[], cwd: string): (t: CrawlTick, seconds: number) => string {
  const sizes = names.map((n) => localSize(n, cwd));
  const totalBytes = sizes.every((b) => b !== null) ? sizes.reduce((a, b) => a! + b!, 0)! : undefined;
  return (t, seconds) => {
    let eta = "-";
    if (totalBytes !== undefined && t.bytes > 0) eta = formatDuration((seconds * (totalBytes - t.bytes)) / t.bytes);
    else if (totalBytes === undefined && t.files > 0) eta = formatDuration((seconds * (names.length - t.files)) / t.files);
    return `round 1: files ${t.files}/${names.length}  pages ${t.pages}  kept ${t.kept}  ${formatRate(t.pages, seconds)} pages/s  ${formatBytes(t.bytes / Math.max(seconds, 0.001))}/s  ETA ${eta}`;
  };
}

/** Why a crawl stored no documents, for the error that stops round 1. */
export function whyNoDocuments(ing: IngestStats): string {
  const warcDrops = ing.warc.dropped.toJSON() as Record<string, number>;
  if (ing.files === 0 && ing.skipped > 0) {
    return `${ing.skipped === 1 ? "the source was" : `all ${ing.skipped} sources were`} crawled by an earlier invocation and gave none; start a new run (another --run DIR) with other sources or extraction settings`;
  }
  if (ing.pages === 0 && (warcDrops.conversion ?? 0) + (warcDrops.metadata ?? 0) > 0) {
    return "they hold no HTTP responses, only conversion/metadata records — WET or WAT files? Common Crawl's pages are in its warc/ files, not wet/ or wat/";
  }
  if (ing.pages === 0) return `no HTML pages in them (dropped reading: ${ing.warc.dropped.describe() || "nothing read"})`;
  return `all ${ing.pages} pages were dropped in extraction (${ing.extract.dropped.describe()})`;
}
