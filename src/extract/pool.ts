import os from "node:os";
import { Piscina } from "piscina";
import { type ExtractInput, type ExtractOptions, type ExtractOutcome, extractPage } from "./extract.js";

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
            filename: new URL("./worker.js", import.meta.url).href,
            minThreads: threads,
            maxThreads: threads,
            // bounded: callers keep a window of pages in flight
            maxQueue: Number.POSITIVE_INFINITY,
            idleTimeout: 30_000,
          })
        : null;
  }

  get threads(): number {
    return this.pool ? this.pool.options.maxThreads : 0;
  }

  async extract(input: ExtractInput): Promise<ExtractOutcome> {
    if (!this.pool) return extractPage(input, this.opts);
    return (await this.pool.run({ input, opts: this.opts })) as ExtractOutcome;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}
