import { safeMessage } from "../core/terminal.js";
import type { Io } from "../core/io.js";
import type { Logger } from "../core/log.js";
import { Progress, formatBytes, formatRate } from "../core/progress.js";
import { type WarcOptions, resolveOptions, validateWarcOptions } from "../config/warc.js";
import type { WarcReadOptions } from "../extract/sources.js";
import type { Page } from "../warc/page.js";
import { type WarcIssue, WarcStats, streamPages } from "../warc/pages.js";
import { resolveSources } from "../warc/source.js";

export interface WarcRunResult {
  stats: WarcStats;
  seconds: number;
}

/**
 * Reads WARC sources for a command: resolves them, shows a progress line on a TTY, warns
 * once per kind of input problem on stderr (every one goes to the log), and hands each
 * page to `onPage`.
 */
export async function readWarcSources(
  specs: string[],
  options: WarcOptions,
  io: Io,
  logger: Logger,
  onPage: (page: Page) => Promise<void> | void,
): Promise<WarcRunResult> {
  validateWarcOptions(options);
  const sources = await resolveSources(specs, resolveOptions(options, io.cwd, logger, io.signal));
  logger.log("info", "sources", { count: sources.length, names: sources.slice(0, 100).map((s) => s.name) });
  const stats = new WarcStats();
  const progress = new Progress(io.stderr);
  const warned = new Set<string>();
  let filesDone = 0;
  const onIssue = (i: WarcIssue) => {
    if (warned.has(i.reason)) return;
    warned.add(i.reason);
    progress.done();
    io.stderr.write(`warning: ${safeMessage(i.message)}${i.reason === "source_failed" ? "" : ` (further ${i.reason} problems are counted in the summary and logged)`}\n`);
  };
  const started = Date.now();
  for await (const page of streamPages(
    sources,
    {
      concurrency: options.concurrency,
      maxRecordBytes: options.maxRecordBytes,
      logger,
      onIssue,
      onFileDone: (source, fileStats) => {
        filesDone++;
        logger.log("info", "file_done", { file: source.name, ...fileStats.toJSON() });
      },
    },
    stats,
  )) {
    await onPage(page);
    const s = progress.elapsed();
    progress.update(() => `files ${filesDone}/${sources.length}  pages ${stats.pages}  ${formatRate(stats.pages, s)} pages/s  ${formatBytes(stats.bytesIn / Math.max(s, 0.001))}/s`);
    if (io.signal?.aborted) break;
  }
  progress.done();
  return { stats, seconds: (Date.now() - started) / 1000 };
}

/** One human line: what was read, kept and dropped. */
export function summaryLine(command: string, r: WarcRunResult): string {
  const s = r.stats;
  const skipped = s.dropped.describe() || "none";
  return (
    `${command}: ${s.pages} pages from ${s.files} file${s.files === 1 ? "" : "s"}` +
    `${s.filesFailed ? ` (${s.filesFailed} failed)` : ""} in ${r.seconds.toFixed(1)}s` +
    ` (${formatBytes(s.bytesIn)}, ${formatBytes(s.bytesIn / Math.max(r.seconds, 0.001))}/s); ` +
    `${s.records} records; dropped: ${skipped}; input errors: ${s.errors()}\n`
  );
}

/** How commands read WARC sources, from their validated options. */
export function warcReading(o: WarcOptions, io: Io, logger: Logger): WarcReadOptions {
  validateWarcOptions(o);
  return { resolve: resolveOptions(o, io.cwd, logger, io.signal), concurrency: o.concurrency, maxRecordBytes: o.maxRecordBytes };
}
