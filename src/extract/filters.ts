import type { ExtractDrop } from "./reasons.js";

/** Cheap page filters, with conservative defaults: math pages are often short. */
export interface FilterOptions {
  /** Fewer characters of extracted text than this → too_short. */
  minChars: number;
  /** Extracted text per byte of HTML below this → low_text_ratio (a page that is almost all markup). */
  minTextRatio: number;
  /** Share of letters, digits and formulas among non-space characters below this → mostly_non_text. */
  minWordShare: number;
}

export const DEFAULT_FILTERS: FilterOptions = { minChars: 100, minTextRatio: 0.002, minWordShare: 0.5 };

/** The first filter a text fails, or undefined. */
export function checkText(text: string, htmlBytes: number, f: FilterOptions): ExtractDrop | undefined {
  if (text.length < f.minChars) return "too_short";
  if (htmlBytes > 0 && text.length / htmlBytes < f.minTextRatio) return "low_text_ratio";
  const nonSpace = text.replace(/\s+/g, "");
  if (nonSpace.length > 0) {
    const mathChars = (text.match(/\$[^$]*\$/g) ?? []).reduce((n, m) => n + m.length, 0);
    const wordChars = (nonSpace.match(/[\p{L}\p{N}]/gu) ?? []).length;
    if ((wordChars + mathChars) / nonSpace.length < f.minWordShare) return "mostly_non_text";
  }
  return undefined;
}
