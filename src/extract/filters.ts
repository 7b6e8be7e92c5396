import { charClasses } from "../core/charclass.js";
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
  const [nonSpace, wordChars] = countChars(text);
  if (nonSpace > 0) {
    const mathChars = text.includes("$") ? (text.match(/\$[^$]*\$/g) ?? []).reduce((n, m) => n + m.length, 0) : 0;
    if ((wordChars + mathChars) / nonSpace < f.minWordShare) return "mostly_non_text";
  }
  return undefined;
}

const IS_SPACE = 2;
const IS_WORD = 4;
const kindOf = charClasses([/\s/, /[\p{L}\p{N}]/u]);

/**
 * One pass: UTF-16 units that are not whitespace (JavaScript's \s), and code points that are
 * letters or digits (\p{L}, \p{N}) — what a whitespace-stripping replace and a /[\p{L}\p{N}]/gu
 * match would count, without building either.
 */
export function countChars(text: string): [number, number] {
  let nonSpace = 0;
  let word = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      if (c === 32 || (c >= 9 && c <= 13)) continue;
      nonSpace++;
      if ((c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122)) word++;
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        nonSpace += 2;
        if (kindOf(text.codePointAt(i)!) & IS_WORD) word++;
        i++;
        continue;
      }
    }
    const k = kindOf(c);
    if (k & IS_SPACE) continue;
    nonSpace++;
    if (k & IS_WORD) word++;
  }
  return [nonSpace, word];
}
