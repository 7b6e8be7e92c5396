import pLimit from "p-limit";
import { Channel } from "../core/channel.js";
import { SourceError, errorMessage } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { Counters } from "../core/stats.js";
import { ByteWindow } from "./bytes.js";
import { Framer, isFrameError } from "./framer.js";
import { type DecodeEvent, type RangeStop, decodeGzip, decodePlain, firstWarcMember, looksLikeWarcMember, resync, startsWithGzipMember } from "./gzip.js";
import type { Page } from "./page.js";
import { type DropReason, type ErrorReason, isErrorReason } from "./reasons.js";
import { toPage } from "./record.js";
import type { WarcSource } from "./source.js";

/** A problem in the input, with where it is. */
export interface WarcIssue {
  file: string;
  offset: number | undefined;
  reason: ErrorReason;
  message: string;
}

/** What reading one file (or many, merged) produced and dropped. */
export class WarcStats {
  files = 0;
  filesFailed = 0;
  records = 0;
  pages = 0;
  bytesIn = 0;
  readonly dropped = new Counters<DropReason>();
  /** The first issues (all are logged; these are kept for summaries). */
  readonly issues: WarcIssue[] = [];
  static readonly keepIssues = 50;

  merge(other: WarcStats): void {
    this.files += other.files;
    this.filesFailed += other.filesFailed;
    this.records += other.records;
    this.pages += other.pages;
    this.bytesIn += other.bytesIn;
    this.dropped.merge(other.dropped);
    for (const i of other.issues) if (this.issues.length < WarcStats.keepIssues) this.issues.push(i);
  }

  errors(): number {
    let n = 0;
    for (const [reason, count] of Object.entries(this.dropped.toJSON())) if (isErrorReason(reason as DropReason)) n += count as number;
    return n;
  }

  toJSON(): Record<string, unknown> {
    return {
      files: this.files,
      files_failed: this.filesFailed,
      records: this.records,
      pages: this.pages,
      bytes_in: this.bytesIn,
      dropped: this.dropped.toJSON(),
      issues: this.issues,
    };
  }
}

export interface ReadOptions {
  /** Largest block kept for a response record; the rest is skipped and the page marked truncated. */
  maxRecordBytes: number;
  logger: Logger;
  /** Called for every input problem as it is found. */
  onIssue?: (issue: WarcIssue) => void;
}

function describeStart(b: Buffer): string {
  const text = b.subarray(0, 40).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
  const hint = /^\s*</.test(text) ? " (looks like HTML/XML, e.g. an error page)" : "";
  return `starts with ${JSON.stringify(text)}${hint}`;
}

async function* countingChunks(source: AsyncIterable<Buffer>, stats: WarcStats): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    stats.bytesIn += chunk.length;
    yield chunk;
  }
}

/**
 * A stretch of a gzip file of one member per record (gzip.ts `membersPerRecord`), read on its
 * own (extract/ranges.ts reads a file's ranges on several workers at once). It holds the records
 * whose members start in [start, end), and a record that runs past `end` to its end. A range
 * after the first starts at the first member at or after `start` that holds a WARC record, or at
 * `start` itself when `exact` (the previous range said where it stopped).
 *
 * Set while reading: `began`, the offset of its first member (-1: none), and `stopped`, where the
 * next range must begin for the ranges to read what one pass reads (-1: the file ended).
 */
export interface PageRange {
  start: number;
  end: number;
  exact?: boolean;
  began?: number;
  stopped?: number;
}

/** Chooses the decoder from the first bytes: gzip members, or a plain WARC. */
async function openDecoder(win: ByteWindow, source: WarcSource, issue: (r: ErrorReason, off: number | undefined, msg: string) => void, until?: RangeStop): Promise<{ events: AsyncGenerator<DecodeEvent>; plain: boolean } | undefined> {
  await win.fill(0, 8192);
  const head = win.from(0);
  if (head.length === 0) {
    issue("empty_file", 0, `${source.name}: empty file`);
    return undefined;
  }
  // two magic bytes alone do not make a gzip file: junk before a plain WARC may start with them
  // (a file is cut into ranges only when it starts with a WARC member: a range of any other file is the whole file)
  const gz = until ? { until } : {};
  if (looksLikeWarcMember(head)) return { events: decodeGzip(win, source.name, gz), plain: false };
  if (head.subarray(0, 5).toString("latin1") === "WARC/") return { events: decodePlain(win), plain: true };
  // junk before the first record: the decoders skip it (with one error) if a record follows soon
  await win.fill(0, JUNK_SCAN);
  const first = win.from(0).subarray(0, JUNK_SCAN);
  const member = firstWarcMember(first);
  const line = VERSION_LINE.exec(first.toString("latin1"));
  const record = line ? line.index + 1 : -1;
  if (member >= 0 && (record < 0 || member < record)) return { events: decodeGzip(win, source.name, gz), plain: false };
  if (record >= 0) return { events: decodePlain(win), plain: true };
  // a gzip file whose inflated bytes start with junk: its framer skips to the first record
  if (startsWithGzipMember(first)) return { events: decodeGzip(win, source.name, gz), plain: false };
  issue("not_warc", 0, `${source.name}: not a WARC file: ${describeStart(head)}${first.length >= JUNK_SCAN ? ` (and no WARC record in its first ${JUNK_SCAN >> 20} MB)` : ""}`);
  return undefined;
}

/** A range after the first: its gzip members from the first WARC member at or after its start. */
async function openRange(win: ByteWindow, source: WarcSource, range: PageRange, until: RangeStop): Promise<{ events: AsyncGenerator<DecodeEvent>; plain: boolean } | undefined> {
  const first = range.exact ? range.start : await resync(win, range.start);
  range.began = first;
  if (first < 0) return undefined;
  await win.fill(first, 0);
  win.discard(first);
  return { events: decodeGzip(win, source.name, { until }), plain: false };
}

/** How far into a file that does not start with a record one is looked for. */
const JUNK_SCAN = 1 << 20;
const VERSION_LINE = /\nWARC\/\d+\.\d+\r?\n/;

/**
 * Streams the HTML pages of one WARC source. Everything else is counted in `stats` under a
 * reason; input errors are logged with file and offset and the file goes on at the next
 * readable record. A source that fails outright (network, permissions) ends with
 * `source_failed`, keeping the pages already yielded.
 */
export async function* readPages(source: WarcSource, opts: ReadOptions, stats: WarcStats, range?: PageRange): AsyncGenerator<Page> {
  stats.files++;
  const issue = (reason: ErrorReason, offset: number | undefined, message: string) => {
    stats.dropped.add(reason);
    const i: WarcIssue = { file: source.name, offset, reason, message };
    if (stats.issues.length < WarcStats.keepIssues) stats.issues.push(i);
    opts.logger.log("warn", "warc_issue", { ...i });
    opts.onIssue?.(i);
  };
  let win: ByteWindow | undefined;
  try {
    // a range stops where the framer is between records: it is made before the framer, read after
    let framerIdle = () => true;
    const until: RangeStop | undefined = range ? { end: range.end, idle: () => framerIdle() } : undefined;
    const start = range?.start ?? 0;
    win = new ByteWindow(countingChunks(source.open(start), stats)[Symbol.asyncIterator](), start);
    const dec = start > 0 ? await openRange(win, source, range!, until!) : await openDecoder(win, source, issue, until);
    if (range && range.start === 0) range.began = dec ? 0 : -1;
    if (!dec) {
      if (range && range.start > 0) {
        range.stopped = -1;
        return;
      }
      stats.filesFailed++;
      return;
    }
    const framer = new Framer({
      fileName: source.name,
      plain: dec.plain,
      keepBlock: (type) => type === "response",
      maxBlockBytes: opts.maxRecordBytes,
    });
    framerIdle = () => framer.idle;
    // A transfer whose end nothing confirmed (no length, no 416) and that stops inside a record
    // was cut: that fails the source (exit 4) instead of passing for a truncated file.
    const inputIssue = (reason: ErrorReason, offset: number | undefined, message: string) => {
      if ((reason === "truncated_gzip" || reason === "truncated_record") && source.endConfirmed?.() === false) {
        throw new SourceError(source.name, `the transfer ends at byte ${stats.bytesIn} without a length, inside a record (${message}): the transfer was cut, not the file`, stats.bytesIn);
      }
      issue(reason, offset, message);
    };
    const handle = async function* (items: ReturnType<Framer["push"]>): AsyncGenerator<Page> {
      for (const item of items) {
        if (isFrameError(item)) {
          inputIssue(item.reason, item.offset, item.message);
          continue;
        }
        stats.records++;
        const result = await toPage(item, source.name, opts.maxRecordBytes);
        if ("page" in result) {
          stats.pages++;
          yield result.page;
        } else {
          if (result.message) issue(result.drop as ErrorReason, item.offset, `${source.name}: record at offset ${item.offset}: ${result.message}`);
          else stats.dropped.add(result.drop);
        }
      }
    };
    for await (const ev of dec.events) {
      if (ev.kind === "error") inputIssue(ev.reason, ev.offset, ev.message);
      yield* handle(framer.push(ev));
    }
    yield* handle(framer.finish());
    if (range) range.stopped = until!.stopped ?? -1;
  } catch (err) {
    stats.filesFailed++;
    const offset = err instanceof SourceError ? err.offset : undefined;
    issue("source_failed", offset, err instanceof SourceError ? err.message : `${source.name}: ${errorMessage(err)}`);
  } finally {
    // a range stops before the file's end, a caller may stop early: the stream is closed now, not at GC
    await win?.close();
  }
}

export interface StreamOptions extends ReadOptions {
  /** Files read at once. */
  concurrency: number;
  /** Called when a file is finished, with that file's stats. */
  onFileDone?: (source: WarcSource, stats: WarcStats) => void;
}

/**
 * Streams the pages of many sources, reading up to `concurrency` files at once through a
 * bounded queue (pages of different files interleave; each page names its file and offset).
 */
export async function* streamPages(sources: WarcSource[], opts: StreamOptions, total: WarcStats): AsyncGenerator<Page> {
  const limit = pLimit(Math.max(1, opts.concurrency));
  const channel = new Channel<Page>(64);
  let open = sources.length;
  if (open === 0) return;
  for (const source of sources) {
    void limit(async () => {
      const stats = new WarcStats();
      try {
        for await (const page of readPages(source, opts, stats)) {
          if (!(await channel.push(page))) break;
        }
      } catch (err) {
        channel.close(err);
      } finally {
        total.merge(stats);
        opts.onFileDone?.(source, stats);
        if (--open === 0) channel.close();
      }
    });
  }
  try {
    yield* channel;
  } finally {
    limit.clearQueue();
  }
}
