import os from "node:os";
import { Piscina } from "piscina";
import { esmTaskOptions } from "../core/paths.js";
import { type ExtractInput, type ExtractOptions, type ExtractOutcome, extractPage } from "./extract.js";

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
 * Runs extraction on worker threads (piscina), one per core by default, or inline when
 * `threads` is 0 (tests, tiny inputs). Extraction is CPU-bound and pure, so threads scale it.
 */
export class Extractor {
  private readonly pool: Piscina | null;

  constructor(
    private readonly opts: ExtractOptions,
    threads = os.availableParallelism(),
  ) {
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
            resourceLimits: { maxYoungGenerationSizeMb: youngGenerationMb(threads) },
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

  async extract(input: ExtractInput): Promise<ExtractOutcome> {
    if (!this.pool) return extractPage(input, this.opts);
    const body = input.body;
    if (typeof body === "string") return (await this.pool.run({ input, opts: this.opts })) as ExtractOutcome;
    // the body is a view into a larger buffer (an inflated member, a read chunk), which a
    // structured clone would copy whole: copy just the body once and transfer it
    const own = new Uint8Array(body.byteLength);
    own.set(body);
    return (await this.pool.run({ input: { ...input, body: own }, opts: this.opts }, { transferList: [own.buffer] })) as ExtractOutcome;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
