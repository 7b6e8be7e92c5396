/**
 * Every record that does not become a page is counted under one of these reasons.
 * The first group are ordinary records a pipeline skips; the second are errors in the
 * input, each also logged with its file and offset.
 */
export const SKIP_REASONS = [
  "warcinfo",
  "request",
  "metadata",
  "resource",
  "revisit",
  "conversion",
  "continuation",
  "other_record",
  "not_http",
  "not_html",
  "http_redirect",
  "http_error",
  "empty_body",
] as const;

export const ERROR_REASONS = [
  "bad_record",
  "length_mismatch",
  "truncated_record",
  "corrupt_gzip",
  "truncated_gzip",
  "bad_http",
  "bad_url",
  "bad_content_encoding",
  "not_warc",
  "empty_file",
  "source_failed",
] as const;

export const DROP_REASONS = [...SKIP_REASONS, ...ERROR_REASONS] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
export type ErrorReason = (typeof ERROR_REASONS)[number];
export type DropReason = (typeof DROP_REASONS)[number];

const RECORD_TYPES: Record<string, SkipReason> = {
  warcinfo: "warcinfo",
  request: "request",
  metadata: "metadata",
  resource: "resource",
  revisit: "revisit",
  conversion: "conversion",
  continuation: "continuation",
};

/** The skip reason for a record type other than `response`. */
export function reasonForRecordType(type: string): SkipReason {
  return RECORD_TYPES[type] ?? "other_record";
}

export function isErrorReason(reason: DropReason): reason is ErrorReason {
  return (ERROR_REASONS as readonly string[]).includes(reason);
}
