import fs from "node:fs";
import { fastTextLine } from "../classify/features.js";
import { type LogLevel, type Logger, nullLogger } from "../core/log.js";
import { Counters } from "../core/stats.js";
import { membersPerRecord } from "../warc/gzip.js";
import type { Page } from "../warc/page.js";
import { type PageRange, type WarcIssue, WarcStats, readPages } from "../warc/pages.js";
import type { DropReason } from "../warc/reasons.js";
import { DEFAULT_HTTP, type HttpOptions, httpHead } from "../warc/http.js";
import { type WarcSource, httpSource, localSource } from "../warc/source.js";
import { type ExtractOptions, type ExtractOutcome, extractPage } from "./extract.js";
import { firstPass } from "./firstpass.js";
import type { ExtractDrop } from "./reasons.js";

/**
 * A crawl's file read on the extraction workers ([speed]): each worker reads, inflates and frames
 * its own range of the file and extracts its pages, so page bytes never cross threads; the main
 * thread gets each page's place and outcome (a small row's worth for a page the gate leaves
 * outside the pool) and stores them in file order.
 */

/** What the main thread keeps of a page read on a worker: everything but its bytes. */
export type PageInfo = Omit<Page, "body" | "httpHeaders">;

/**
 * A page of a range and what extraction made of it, or only its cheap text as a fastText line
 * (RangeTask `cheap`: features.ts `fastTextLine`, what the gate's training file holds).
 */
export interface RangePage {
  page: PageInfo;
  out?: ExtractOutcome;
  cheap?: string;
}

/** A page a previous attempt of the range could not finish (its worker was ended): dropped, not extracted again. */
export interface RangeSkip {
  offset: number;
  drop: ExtractDrop;
  message: string;
}

/** What of a source's HTTP options crosses to a worker (no dispatcher, logger or signal). */
export type WorkerHttp = Pick<HttpOptions, "retries" | "backoffMs" | "maxBackoffMs" | "stallMs" | "userAgent">;

/** A file as a worker opens it: a local path, or a URL (read with Range requests, checked against the ETag its plan saw). */
export interface RangeSource {
  /** The file's name as the run records it (pages' `warcFile`). */
  name: string;
  file?: string;
  url?: string;
  http?: WorkerHttp;
  etag?: string;
}

/** One range of one file, for a worker. */
export interface RangeTask {
  kind: "range";
  source: RangeSource;
  range: PageRange;
  maxRecordBytes: number;
  opts: ExtractOptions;
  /** Only each page's first-pass text, of at most this many characters, as a fastText line (the gate's sample), not its extraction. */
  cheap?: number;
  skip: RangeSkip[];
  /** Shared clock table (pool.ts): the worker writes Date.now() at `slot` when it starts a page, 0 when done… */
  clock?: Float64Array;
  /** …and the page's offset at `slot`, so the page that ran over its bounds is known. */
  at?: Float64Array;
  slot?: number;
}

/** WarcStats as it crosses threads. */
export interface WarcCounts {
  records: number;
  pages: number;
  bytesIn: number;
  filesFailed: number;
  dropped: Partial<Record<DropReason, number>>;
}

/** A log line a worker could not write (an HTTP retry): the main thread writes it. */
export interface LogLine {
  level: LogLevel;
  event: string;
  fields?: Record<string, unknown>;
}

export interface RangeResult {
  pages: RangePage[];
  logs: LogLine[];
  warc: WarcCounts;
  /** Every input issue of the range, in order (the main thread logs them). */
  issues: WarcIssue[];
  /** PageRange.began / stopped: where the range read from and where the next must begin. */
  began: number;
  stopped: number;
  /** A record inside a member of several records: its offset is a position in the decompressed stream, which a range cannot know. */
  decompressed: boolean;
}

/** Worker side: reads one range of a file and extracts its pages. Never throws for bad input (it is counted). */
export async function readRange(task: RangeTask): Promise<RangeResult> {
  const stats = new WarcStats();
  const issues: WarcIssue[] = [];
  const pages: RangePage[] = [];
  const skip = new Map(task.skip.map((s) => [s.offset, s]));
  const range: PageRange = { ...task.range };
  const { clock, at, slot } = task;
  let decompressed = false;
  const logs: LogLine[] = [];
  const logger = keptLines(logs);
  const src = task.source;
  const source: WarcSource = src.url !== undefined ? httpSource(src.url, { ...DEFAULT_HTTP, ...src.http, logger }, src.etag) : localSource(src.file!, src.name);
  // input issues come back as `issues` (the main thread logs each once); the HTTP client's lines as `logs`
  for await (const p of readPages(source, { maxRecordBytes: task.maxRecordBytes, logger: nullLogger, onIssue: (i) => issues.push(i) }, stats, range)) {
    if (p.offsetKind === "decompressed") decompressed = true;
    const { body, httpHeaders: _h, ...page } = p;
    const s = skip.get(p.offset);
    if (s) {
      pages.push({ page, out: { drop: s.drop, message: s.message } });
      continue;
    }
    if (clock && at && slot !== undefined) {
      at[slot] = p.offset;
      clock[slot] = Date.now();
    }
    try {
      if (task.cheap !== undefined) pages.push({ page, cheap: fastTextLine(firstPass(body, p.contentType, task.opts.limits.maxChars, task.cheap, false).text) });
      else pages.push({ page, out: extractPage({ body, contentType: p.contentType }, task.opts) });
    } finally {
      if (clock && slot !== undefined) clock[slot] = 0;
    }
  }
  const began = range.began ?? -1;
  const stopped = range.stopped ?? -1;
  // the file's bytes this range stands for, [began, stopped): not what it read ahead past its stop
  const bytesIn = began < 0 ? 0 : stopped >= 0 ? stopped - began : task.range.start + stats.bytesIn - began;
  return {
    pages,
    logs,
    warc: { records: stats.records, pages: stats.pages, bytesIn, filesFailed: stats.filesFailed, dropped: stats.dropped.toJSON() },
    issues,
    began,
    stopped,
    decompressed,
  };
}

/** A logger that keeps its lines, for the main thread to write. */
export function keptLines(logs: LogLine[]): Logger {
  return { log: (level, event, fields) => logs.push({ level, event, ...(fields ? { fields } : {}) }), close: async () => {}, abandon() {} };
}

/** Adds a range's counts to a file's WarcStats (the file itself is counted once, by the caller). */
export function addCounts(stats: WarcStats, c: WarcCounts, issues: WarcIssue[]): void {
  stats.records += c.records;
  stats.pages += c.pages;
  stats.bytesIn += c.bytesIn;
  stats.filesFailed += c.filesFailed;
  const d = new Counters<DropReason>();
  for (const [k, v] of Object.entries(c.dropped)) d.add(k as DropReason, v as number);
  stats.dropped.merge(d);
  for (const i of issues) if (stats.issues.length < WarcStats.keepIssues) stats.issues.push(i);
}

/** Default size of a range: ~1,000 Common Crawl pages, an eighth of a second of one worker's inflating. */
export const DEFAULT_RANGE_BYTES = 32 << 20;

/**
 * The ranges a local file is read in: several when it is a gzip file of one member per record
 * larger than 1.5 ranges (their starts depend on the file only, never on the number of workers),
 * the whole file as one range when it is no larger than that; null for a larger file that cannot
 * be cut (a whole-file gzip, a plain WARC): its pages are read on the main thread and handed to
 * the workers one by one, since a range's outcomes are held until the range is done.
 */
export function planRanges(file: string, rangeBytes = DEFAULT_RANGE_BYTES): PageRange[] | null {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return WHOLE; // reading it fails on the worker, which says why
  }
  if (size <= rangeBytes * 1.5) return WHOLE;
  const head = Buffer.alloc(HEAD_BYTES);
  let n = 0;
  try {
    const fd = fs.openSync(file, "r");
    try {
      n = fs.readSync(fd, head, 0, head.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return WHOLE;
  }
  return cut(size, head.subarray(0, n), rangeBytes);
}

const WHOLE: PageRange[] = [{ start: 0, end: Number.MAX_SAFE_INTEGER }];
/** The first bytes of a file looked at to decide whether it can be cut. */
const HEAD_BYTES = 1 << 20;

function cut(size: number, head: Buffer, rangeBytes: number): PageRange[] | null {
  if (size <= rangeBytes * 1.5) return WHOLE;
  if (!membersPerRecord(head)) return null;
  const out: PageRange[] = [];
  for (let s = 0; s < size; s += rangeBytes) out.push({ start: s, end: s + rangeBytes >= size ? Number.MAX_SAFE_INTEGER : s + rangeBytes });
  return out;
}

/**
 * The ranges of a file on an HTTP(S) server, as planRanges (its size and first bytes from one
 * Range request), and the ETag its ranges' requests must see. Null where its size is unknown or
 * the request fails: it is read in one pass on the main thread, which reports why.
 */
export async function planHttpRanges(url: string, http: HttpOptions, rangeBytes = DEFAULT_RANGE_BYTES): Promise<{ plan: PageRange[] | null; etag?: string }> {
  try {
    const { head, size, etag } = await httpHead(url, http, HEAD_BYTES);
    if (size === undefined) return { plan: null };
    return { plan: cut(size, head, rangeBytes), ...(etag !== undefined ? { etag } : {}) };
  } catch {
    return { plan: null };
  }
}

/** A source's options a worker can take: HTTP without a dispatcher of its own (a worker uses undici's global one). */
export function workerSource(s: WarcSource): RangeSource | undefined {
  if (s.file !== undefined) return { name: s.name, file: s.file };
  const h = s.http;
  const http = h && workerHttp(h.options);
  return h && http ? { name: s.name, url: h.url, http } : undefined;
}

/** HTTP options as a worker takes them; undefined for options with a dispatcher of their own (a worker uses undici's global one). */
export function workerHttp(o: HttpOptions): WorkerHttp | undefined {
  if (o.dispatcher) return undefined;
  return { retries: o.retries, backoffMs: o.backoffMs, maxBackoffMs: o.maxBackoffMs, stallMs: o.stallMs, ...(o.userAgent !== undefined ? { userAgent: o.userAgent } : {}) };
}

/** Thrown for a file whose ranges cannot be read apart after all (a member of several records): it is read in one pass instead. */
export class RangeFallback extends Error {}

interface Slot {
  file: number;
  range: PageRange;
  result: Promise<RangeResult>;
}

/**
 * Main thread side: reads the ranges of a crawl's local files on the extraction workers, a few
 * ranges ahead of the one being stored (the next file's too), and hands each file's pages back
 * in file order, as one pass over the file gives them. Ranges are checked against each other: a
 * range must begin where the one before it stopped; one that began elsewhere (a member found
 * inside another's stored bytes) is read again from there, and one the previous range read past
 * is dropped.
 */
export class RangeFeed {
  private next = { file: 0, range: 0 };
  private readonly ahead: Slot[] = [];
  private readonly files: RangeSource[];
  private readonly plans = new Map<number, Promise<PageRange[] | null>>();
  private readonly depth: number;

  /**
   * `sources`: files a worker can open (workerSource). Each is planned when reading reaches it:
   * a local file at once, an HTTP file by one Range request for its first MB (logged to `o.logger`).
   */
  constructor(
    private readonly extractor: import("./pool.js").Extractor,
    private readonly sources: WarcSource[],
    private readonly o: { maxRecordBytes: number; rangeBytes?: number | undefined; depth?: number; cheap?: number; logger?: Logger },
  ) {
    this.files = sources.map((s) => workerSource(s)!);
    this.depth = o.depth ?? Math.max(2, extractor.threads * 2 + 1);
  }

  private plan(i: number): Promise<PageRange[] | null> {
    let p = this.plans.get(i);
    if (!p) {
      const f = this.files[i]!;
      p =
        f.file !== undefined
          ? Promise.resolve(planRanges(f.file, this.o.rangeBytes))
          : planHttpRanges(f.url!, { ...this.sources[i]!.http!.options, ...(this.o.logger ? { logger: this.o.logger } : {}) }, this.o.rangeBytes).then((r) => {
              if (r.etag !== undefined) f.etag = r.etag;
              return r.plan;
            });
      this.plans.set(i, p);
    }
    return p;
  }

  private async fill(): Promise<void> {
    while (this.ahead.length < this.depth && this.next.file < this.files.length) {
      const { file, range } = this.next;
      const plan = await this.plan(file);
      if (!plan) {
        this.next = { file: file + 1, range: 0 };
        continue;
      }
      const r = plan[range]!;
      const result = this.extractor.readRange(this.task(this.files[file]!, r));
      result.catch(() => {}); // awaited in order; this only keeps an early failure from being "unhandled"
      this.ahead.push({ file, range: r, result });
      this.next = range + 1 < plan.length ? { file, range: range + 1 } : { file: file + 1, range: 0 };
    }
  }

  private task(source: RangeSource, range: PageRange) {
    return { source, range, maxRecordBytes: this.o.maxRecordBytes, ...(this.o.cheap !== undefined ? { cheap: this.o.cheap } : {}) };
  }

  /** Whether file `i` is read in ranges here (planRanges, planHttpRanges); if not, the caller reads it in one pass. */
  async readable(i: number): Promise<boolean> {
    return (await this.plan(i)) !== null;
  }

  /**
   * The pages of file `i` (files are taken in order), with their outcomes; `stats` gets the
   * file's counts and `onIssue` each input issue. Throws RangeFallback when the file must be
   * read in one pass.
   */
  async *pages(i: number, stats: WarcStats, onIssue: (i: WarcIssue) => void): AsyncGenerator<RangePage> {
    stats.files++;
    let expect = 0;
    const f = this.files[i]!;
    // what is left of files before this one (one read in one pass after all) is not wanted
    while (this.ahead.length > 0 && this.ahead[0]!.file < i) this.ahead.shift();
    if (this.next.file < i) this.next = { file: i, range: 0 };
    for (;;) {
      await this.fill();
      const slot = this.ahead[0];
      if (!slot || slot.file !== i) return;
      this.ahead.shift();
      let r = await slot.result;
      const first = slot.range.start === 0; // a file's first range is read as one pass reads the file
      if (!first && (expect < 0 || (r.began !== expect && expect >= slot.range.end))) continue; // read by the range before
      if (!first && r.began !== expect) r = await this.extractor.readRange(this.task(f, { start: expect, end: slot.range.end, exact: true }));
      if (r.decompressed && slot.range.start > 0) throw new RangeFallback(`${f.name}: a gzip member holds several records; the file is read in one pass`);
      addCounts(stats, r.warc, r.issues);
      for (const l of r.logs) this.o.logger?.log(l.level, l.event, l.fields);
      r.issues.forEach(onIssue);
      expect = r.stopped;
      yield* r.pages;
    }
  }

  /** Stops reading ahead (the ranges already running finish on their own). */
  close(): void {
    this.ahead.length = 0;
    this.next = { file: this.files.length, range: 0 };
  }
}
