import os from "node:os";
import { UsageError } from "../core/errors.js";
import type { OptionSpecs, Resolved } from "../core/options.js";
import type { ExtractOptions } from "../extract/extract.js";
import { DEFAULT_FILTERS } from "../extract/filters.js";
import { DEFAULT_PAGE_TIMEOUT_MS } from "../extract/pool.js";
import { DEFAULT_LIMITS } from "../extract/tree.js";

/** Options of every command that extracts text. */
export const extractOptionSpecs = {
  threads: { type: "number", default: os.availableParallelism(), arg: "N", help: "extraction worker threads (0: extract on the main thread)" },
  langs: { type: "list", default: [], arg: "LANG,...", help: "keep only pages identified as these languages (fastText lid.176 codes, e.g. en,zh); default: all" },
  minChars: { type: "number", default: DEFAULT_FILTERS.minChars, arg: "N", help: "drop pages whose extracted text is shorter (too_short)" },
  minTextRatio: { type: "number", default: DEFAULT_FILTERS.minTextRatio, arg: "R", help: "drop pages with less extracted text per byte of HTML (low_text_ratio)" },
  minWordShare: { type: "number", default: DEFAULT_FILTERS.minWordShare, arg: "R", help: "drop pages whose non-space characters are less than this share letters, digits or formulas (mostly_non_text)" },
  maxHtmlChars: { type: "number", default: DEFAULT_LIMITS.maxChars, arg: "N", help: "parse at most this many characters of a page's HTML (bounds time on huge pages)" },
  pageTimeout: {
    type: "number",
    default: DEFAULT_PAGE_TIMEOUT_MS / 1000,
    arg: "SECONDS",
    help: "drop a page whose extraction runs longer on a worker thread (extract_timeout; the worker is replaced); a page's memory is bounded by its worker's heap (extract_memory)",
  },
} as const satisfies OptionSpecs;

export type ExtractConfig = Resolved<typeof extractOptionSpecs>;

export function toExtractOptions(c: ExtractConfig): ExtractOptions {
  if (!Number.isInteger(c.threads) || c.threads < 0 || c.threads > 256) throw new UsageError(`--threads expects a whole number from 0 to 256, got ${c.threads}`);
  if (c.minChars < 0) throw new UsageError(`--min-chars expects a number ≥ 0, got ${c.minChars}`);
  for (const [flag, v] of [["--min-text-ratio", c.minTextRatio], ["--min-word-share", c.minWordShare]] as const) {
    if (!(v >= 0 && v <= 1)) throw new UsageError(`${flag} expects a share from 0 to 1, got ${v}`);
  }
  if (!(c.maxHtmlChars >= 1000)) throw new UsageError(`--max-html-chars expects at least 1000, got ${c.maxHtmlChars}`);
  if (!(c.pageTimeout > 0 && c.pageTimeout <= 86_400)) throw new UsageError(`--page-timeout expects seconds above 0 (at most 86400), got ${c.pageTimeout}`);
  return {
    pageTimeoutMs: c.pageTimeout * 1000,
    limits: { ...DEFAULT_LIMITS, maxChars: c.maxHtmlChars },
    filters: { minChars: c.minChars, minTextRatio: c.minTextRatio, minWordShare: c.minWordShare },
  };
}
