/** Why extraction drops a page. */
export const EXTRACT_DROPS = ["undecodable", "too_short", "low_text_ratio", "mostly_non_text", "lang_excluded", "extract_error", "extract_timeout", "extract_memory"] as const;
export type ExtractDrop = (typeof EXTRACT_DROPS)[number];
