import os from "node:os";
import { Piscina } from "piscina";
import { errorMessage } from "../core/errors.js";
import { esmTaskOptions } from "../core/paths.js";
import type { ExtractDrop } from "./reasons.js";
import { type ExtractInput, type ExtractOptions, type ExtractOutcome, type FirstPassGate, extractPage } from "./extract.js";
import { firstPass } from "./firstpass.js";
import type { RecordPlace, RereadOptions } from "../warc/reread.js";
import { type PlaceResult, type PlaceTask, placeOutcome } from "./place.js";
import { type RangeResult, type RangeSkip, type RangeTask, workerHttp } from "./ranges.js";

/**
 * Young generation of each extraction worker (MB). Parsing a page allocates megabytes that die
 * with it; with V8's default (48 MB) each worker scavenged ~300 times per 2,500 CC-style pages,
 * 0.8 s of GC. At 128 MB: ~110 times, 0.38 s, and the crawl of 5,000 pages used 1.4 s less CPU
 * (three alternated runs each, `node --trace-gc`; ARCHITECTURE.md). It costs ~80 MB more
 * resident memory per worker, so with many workers and little memory it is smaller: at most a
 * 1/16 share of the machine's memory per worker, and never below V8's default.
 */
export function youngGenerationMb(threads: number, totalBytes = os.totalmem()): number {
  return Math.max(48, Math.min(128, Math.floor(totalBytes / 2 ** 20 / Math.max(1, threads) / 16)));
}

/**
 * Old generation of each extraction worker (MB): a page's memory bound. A page that needs more
 * ends its worker with an out-of-memory error and is dropped as `extract_memory`; the other
 * pages that worker held are extracted again on a new one. A quarter of the machine's memory
 * per worker, from 512 MB to 2 GB (a page is parsed from at most --max-html-chars characters:
 * 4 M by default, which parse in well under 200 MB).
 */
export function oldGenerationMb(threads: number, totalBytes = os.totalmem()): number {
  return Math.max(512, Math.min(2048, Math.floor(totalBytes / 2 ** 20 / Math.max(1, threads) / 4)));
}

/** Default time bound of one page's extraction on a worker (ms). */
export const DEFAULT_PAGE_TIMEOUT_MS = 30_000;
/** Pages that can be watched at once (more in flight run without a deadline). */
const SLOTS = 1 << 14;
/** Times a page is sent again when its worker was ended for another page's sake. */
const RETRIES = 3;

/** A watched task's slot of the clock table (Extractor.watched), and the signal that ends its worker. */
interface Watch {
  clock?: Float64Array;
  at?: Float64Array;
  slot?: number;
  signal: AbortSignal;
}

/** What a worker is given: the page, the options, and where to note when it started the page. */
export interface ExtractTask {
  input: ExtractInput;
  opts: ExtractOptions;
  /** Shared clock table: the worker writes Date.now() at `slot` when it starts the page, 0 when done. */
  clock?: Float64Array;
  slot?: number;
}

/** A page's first-pass text only (the candidate pool's gate trains on the seeds' texts). */
export interface CheapTask {
  kind: "cheap";
  body: Uint8Array | string;
  contentType?: string | undefined;
  maxText: number;
}

/**
 * Runs extraction on worker threads (piscina), one per core by default, or inline when
 * `threads` is 0 (tests, tiny inputs). Extraction is CPU-bound and pure, so threads scale it.
 *
 * Every page is bounded on the workers: in time by a watchdog (a page running longer than
 * `pageTimeoutMs` has its worker ended and is dropped as `extract_timeout`; the clock starts
 * when a worker starts the page, not when it is queued), and in memory by the worker's heap
 * limit. Inline extraction has neither (the main thread cannot be stopped mid-page).
 */
export class Extractor {
  private readonly pool: Piscina | null;
  private readonly clock = new Float64Array(new SharedArrayBuffer(SLOTS * 8));
  /** The offset of the page a range task's worker is on, per slot (ranges.ts). */
  private readonly at = new Float64Array(new SharedArrayBuffer(SLOTS * 8));
  private readonly free: number[] = [];
  private readonly watchedSlots = new Map<number, AbortController>();
  private watchdog: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;

  constructor(
    private opts: ExtractOptions,
    threads = os.availableParallelism(),
  ) {
    this.timeoutMs = opts.pageTimeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS;
    for (let i = SLOTS - 1; i >= 0; i--) this.free.push(i);
    this.pool =
      threads > 0
        ? new Piscina({
            ...esmTaskOptions(new URL("./worker.js", import.meta.url), "src/extract/worker.js"),
            minThreads: threads,
            maxThreads: threads,
            // bounded: callers keep a window of pages in flight
            maxQueue: Number.POSITIVE_INFINITY,
            idleTimeout: 30_000,
            // pages wait in each worker's own queue, so a worker never idles while the main
            // thread is busy (GC, storing, reading): 1 → 2 measured 73.9 → 61.3 s on 19.6k
            // CC-style pages; 2 → 8 took extraction alone from 48.4 to 45.8 s (two runs each,
            // alternated)
            concurrentTasksPerWorker: 8,
            resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb(threads), maxOldGenerationSizeMb: oldGenerationMb(threads) },
          })
        : null;
  }

  /**
   * Pages to keep in flight (in-order output): enough that one slow page does not leave the
   * workers idle (16 → 64 on 2 threads: crawl of 19.6k CC-style pages 73.9 → 69.4 s).
   */
  get window(): number {
    return Math.max(8, this.threads * 32);
  }

  get threads(): number {
    return this.pool ? this.pool.options.maxThreads : 0;
  }

  /** Turns the candidate pool's gate on for the pages extracted from now on (ExtractOptions.firstPass). */
  setGate(gate: FirstPassGate | undefined): void {
    const { firstPass: _, ...rest } = this.opts;
    this.opts = gate ? { ...rest, firstPass: gate } : rest;
  }

  async extract(input: ExtractInput): Promise<ExtractOutcome> {
    const pool = this.pool;
    if (!pool) return extractPage(input, this.opts);
    return this.onePage(
      (w) => {
        // the body is a view into a larger buffer (an inflated member, a read chunk), which a
        // structured clone would copy whole: copy just the body and transfer the copy
        const sent = typeof input.body === "string" ? input.body : new Uint8Array(input.body);
        return pool.run({ input: { ...input, body: sent }, opts: this.opts, ...w } satisfies ExtractTask, { signal: w.signal, ...(typeof sent === "string" ? {} : { transferList: [sent.buffer as ArrayBuffer] }) }) as Promise<ExtractOutcome>;
      },
      (drop) => drop,
    );
  }

  /**
   * Runs a one-page task under the watchdog, again on a new worker when its worker was ended for
   * another page (up to RETRIES times); a page that ran over its bounds, or failed otherwise,
   * comes back as what `dropped` makes of its drop.
   */
  private async onePage<T>(run: (w: Watch) => Promise<T>, dropped: (drop: { drop: ExtractDrop; message: string }) => T): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.watched(run);
      if ("value" in r) return r.value;
      if (r.fault === "retry" && attempt < RETRIES) continue;
      return dropped({ drop: r.drop ?? "extract_error", message: r.message });
    }
  }

  /** A page's first-pass text (extract/firstpass, without its signals), on a worker. */
  async cheapText(body: Uint8Array | string, contentType: string | undefined, maxText: number): Promise<string> {
    const task: CheapTask = { kind: "cheap", body, contentType, maxText };
    if (this.pool) return (await this.pool.run(task)) as string;
    return firstPass(typeof body === "string" ? Buffer.from(body) : body, contentType, undefined, maxText, false).text;
  }

  /**
   * Reads one range of a local file on a worker (ranges.ts): the worker inflates, frames and
   * extracts its pages. A page that runs over its time or memory ends the worker; the range is
   * then read again with that page dropped (extract_timeout / extract_memory), and a range whose
   * worker was ended for another task's page is read again as it was. Only with worker threads.
   */
  async readRange(task: Omit<RangeTask, "kind" | "opts" | "skip" | "clock" | "at" | "slot">): Promise<RangeResult> {
    const pool = this.pool;
    if (!pool) throw new Error("readRange needs worker threads");
    const skip: RangeSkip[] = [];
    for (let attempt = 0; ; ) {
      const r = await this.watched((w) => pool.run({ ...task, kind: "range", opts: this.opts, skip, ...w } satisfies RangeTask, { signal: w.signal }) as Promise<RangeResult>);
      if ("value" in r) return r.value;
      if (r.fault === "page" && r.offset !== undefined && r.offset >= 0 && !skip.some((s) => s.offset === r.offset)) skip.push({ offset: r.offset, drop: r.drop!, message: r.message });
      else if (r.fault === "retry" && attempt++ < RETRIES) continue;
      else throw new Error(`${task.source.name}: reading bytes ${task.range.start}-${task.range.end} on a worker failed: ${r.message}`);
    }
  }

  /**
   * Reads the page at `place` again and extracts it as the crawl extracts its pages, both on a
   * worker (its bytes never reach the main thread), under the same watchdog as a page of the
   * crawl: a page that runs over its time or memory is dropped as extract_timeout /
   * extract_memory. Read on the main thread and extracted on a worker where the reading cannot
   * cross threads (HTTP options with a dispatcher); both inline without workers.
   */
  async extractAt(place: RecordPlace, reread: RereadOptions): Promise<PlaceResult> {
    const pool = this.pool;
    const http = workerHttp(reread.http);
    if (!pool || !http) return placeOutcome(place, reread, (p) => this.extract({ body: p.body, contentType: p.contentType }));
    const task = { kind: "place", place, read: { cwd: reread.cwd, maxRecordBytes: reread.maxRecordBytes, http }, opts: this.opts } as const;
    const r = await this.onePage(
      (w) => pool.run({ ...task, ...w } satisfies PlaceTask, { signal: w.signal }) as Promise<PlaceResult>,
      (out): PlaceResult => ({ out, logs: [] }),
    );
    for (const l of r.logs) reread.logger.log(l.level, l.event, l.fields);
    return r;
  }

  /**
   * Runs one task under the watchdog: a slot of the clock table while it runs. A failure says
   * whose it was: `page` (the page the task was on ran over its time or memory: `drop`, and for
   * a range the page's `offset`), `retry` (its worker was ended for another task), or `error`.
   */
  private async watched<T>(run: (w: Watch) => Promise<T>): Promise<{ value: T } | { fault: "page" | "retry" | "error"; drop?: ExtractDrop; message: string; offset?: number }> {
    const slot = this.free.pop();
    const ac = new AbortController();
    if (slot !== undefined) {
      this.clock[slot] = 0;
      this.at[slot] = -1;
      this.watchedSlots.set(slot, ac);
      this.startWatchdog();
    }
    try {
      return { value: await run({ ...(slot !== undefined ? { clock: this.clock, at: this.at, slot } : {}), signal: ac.signal }) };
    } catch (err) {
      const started = slot !== undefined ? this.clock[slot]! : 0;
      const offset = slot !== undefined ? this.at[slot]! : undefined;
      if (ac.signal.aborted) return { fault: "page", drop: "extract_timeout", message: `extraction ran over ${this.timeoutMs / 1000} s (--page-timeout); its worker was ended`, ...(offset !== undefined ? { offset } : {}) };
      const oom = (err as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY";
      if (oom && started > 0) return { fault: "page", drop: "extract_memory", message: `extraction ran out of its worker's ${oldGenerationMb(this.threads)} MB heap`, ...(offset !== undefined ? { offset } : {}) };
      // the worker was ended for another page (its deadline or memory): this one goes again
      if (oom || /Terminating worker thread|worker exited/i.test(errorMessage(err))) return { fault: "retry", message: `extraction worker failed: ${errorMessage(err)}` };
      return { fault: "error", message: `extraction worker failed: ${errorMessage(err)}` };
    } finally {
      if (slot !== undefined) {
        this.watchedSlots.delete(slot);
        this.clock[slot] = 0;
        this.free.push(slot);
      }
    }
  }

  /** Checks the pages running on workers a few times per deadline; stops when none is watched. */
  private startWatchdog(): void {
    if (this.watchdog) return;
    const every = Math.max(20, Math.min(1000, this.timeoutMs / 4));
    this.watchdog = setInterval(() => {
      if (this.watchedSlots.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      const now = Date.now();
      for (const [slot, ac] of this.watchedSlots) {
        const t = this.clock[slot]!;
        if (t > 0 && now - t > this.timeoutMs) ac.abort(new Error("page timeout"));
      }
    }, every);
    this.watchdog.unref();
  }

  async close(): Promise<void> {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    await this.pool?.destroy();
  }
}
