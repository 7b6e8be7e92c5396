import { errorMessage } from "../core/errors.js";
import { DEFAULT_HTTP } from "../warc/http.js";
import type { Page } from "../warc/page.js";
import { type RecordPlace, type RereadOptions, rereadPage } from "../warc/reread.js";
import { type ExtractOptions, type ExtractOutcome, extractPage } from "./extract.js";
import { type LogLine, type PageInfo, type WorkerHttp, keptLines } from "./ranges.js";

/*
 * A stored page read again by its place (warc/reread.ts) and extracted on a worker, as the
 * crawl's ranges are (ranges.ts): rounds/outside.ts reads pages outside the candidate pool so.
 */

/** How a worker reads a page again by its place: RereadOptions without what cannot cross threads. */
export interface PlaceRead {
  cwd: string;
  maxRecordBytes: number;
  http?: WorkerHttp;
}

/** One page read again by its place (warc/reread.ts) and extracted, on a worker (rounds/outside.ts). */
export interface PlaceTask {
  kind: "place";
  place: RecordPlace;
  read: PlaceRead;
  opts: ExtractOptions;
  /** Shared clock table, as ExtractTask's: set while the page is extracted (not while it is read). */
  clock?: Float64Array;
  slot?: number;
}

/**
 * A page read again and what extraction made of it (`page` is missing only where the watchdog
 * ended its extraction), or why it could not be read; `logs`: the HTTP client's lines.
 */
export type PlaceResult = { page?: PageInfo; out: ExtractOutcome; logs: LogLine[] } | { error: string; logs: LogLine[] };

/**
 * Reads the page at `place` again and extracts it with `extract`: on a worker (readPlace), or on
 * the main thread where the reading needs what cannot cross threads (an HTTP dispatcher).
 */
export async function placeOutcome(place: RecordPlace, reread: RereadOptions, extract: (p: Page) => ExtractOutcome | Promise<ExtractOutcome>, logs: LogLine[] = []): Promise<PlaceResult> {
  let p: Page;
  try {
    p = await rereadPage(place, reread);
  } catch (err) {
    return { error: errorMessage(err), logs };
  }
  const { body: _b, httpHeaders: _h, ...page } = p;
  return { page, out: await extract(p), logs };
}

/** Worker side of PlaceTask: the record is read here, so its bytes never cross threads. Never throws for bad input. */
export function readPlace(task: PlaceTask): Promise<PlaceResult> {
  const logs: LogLine[] = [];
  const logger = keptLines(logs);
  const reread: RereadOptions = { http: { ...DEFAULT_HTTP, ...task.read.http, logger }, maxRecordBytes: task.read.maxRecordBytes, logger, cwd: task.read.cwd };
  const { clock, slot } = task;
  return placeOutcome(
    task.place,
    reread,
    (p) => {
      if (clock && slot !== undefined) clock[slot] = Date.now();
      try {
        return extractPage({ body: p.body, contentType: p.contentType }, task.opts);
      } finally {
        if (clock && slot !== undefined) clock[slot] = 0;
      }
    },
    logs,
  );
}
