import type { OptionSpecs, Resolved } from "../core/options.js";
import type { Logger } from "../core/log.js";
import type { HttpOptions } from "../warc/http.js";
import { DEFAULT_HTTP } from "../warc/http.js";
import { DEFAULT_CC_BASE_URL, type ResolveOptions } from "../warc/source.js";
import { UsageError } from "../core/errors.js";

/** Options of every command that reads WARC sources. */
export const warcOptionSpecs = {
  concurrency: { type: "number", default: 2, arg: "N", help: "WARC files read at once (network sources gain most from more)" },
  maxRecordBytes: {
    type: "bytes",
    default: 8 * 1024 * 1024,
    arg: "SIZE",
    help: "largest response block kept per record; longer pages are cut there and marked truncated",
  },
  ccBaseUrl: { type: "string", default: DEFAULT_CC_BASE_URL, arg: "URL", help: "base URL for Common Crawl crawl ids and relative listing paths (a mirror, or a test server)" },
  segments: { type: "list", default: [], arg: "PICK,...", help: "for a crawl id: segments to read, by index (0-based), range a-b, or segment id" },
  limit: { type: "number", default: 0, arg: "N", help: "for a crawl id or listing: read at most N files (0: all)" },
  retries: { type: "number", default: DEFAULT_HTTP.retries, arg: "N", help: "HTTP retries per stretch without progress (503 SlowDown, 429, 5xx, resets, stalls)" },
  stallTimeout: { type: "number", default: DEFAULT_HTTP.stallMs / 1000, arg: "SECONDS", help: "an HTTP transfer idle this long is dropped and resumed with a Range request" },
} as const satisfies OptionSpecs;

export type WarcOptions = Resolved<typeof warcOptionSpecs>;

export function validateWarcOptions(o: WarcOptions): void {
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1 || o.concurrency > 64) throw new UsageError(`--concurrency expects a whole number from 1 to 64, got ${o.concurrency}`);
  if (o.maxRecordBytes < 1024) throw new UsageError(`--max-record-bytes must be at least 1KiB, got ${o.maxRecordBytes}`);
  if (!Number.isInteger(o.limit) || o.limit < 0) throw new UsageError(`--limit expects a whole number ≥ 0, got ${o.limit}`);
  if (!Number.isInteger(o.retries) || o.retries < 0) throw new UsageError(`--retries expects a whole number ≥ 0, got ${o.retries}`);
  if (!(o.stallTimeout > 0)) throw new UsageError(`--stall-timeout expects seconds > 0, got ${o.stallTimeout}`);
  if (!/^https?:\/\//.test(o.ccBaseUrl)) throw new UsageError(`--cc-base-url expects an http(s) URL, got ${o.ccBaseUrl}`);
}

export function httpOptions(o: WarcOptions, logger: Logger, signal?: AbortSignal): HttpOptions {
  return { ...DEFAULT_HTTP, retries: o.retries, stallMs: o.stallTimeout * 1000, logger, ...(signal ? { signal } : {}) };
}

export function resolveOptions(o: WarcOptions, cwd: string, logger: Logger, signal?: AbortSignal): ResolveOptions {
  return { cwd, http: httpOptions(o, logger, signal), ccBaseUrl: o.ccBaseUrl, segments: o.segments, limit: o.limit };
}
