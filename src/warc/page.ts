import type { OffsetKind } from "./framer.js";

/** An HTML response taken out of a WARC file: what every later stage starts from. */
export interface Page {
  url: string;
  /** Lower-cased host name of the URL. */
  host: string;
  /** Registrable domain (public suffix + 1), or the host for IPs and unknown suffixes. */
  domain: string;
  /** The source it came from, as given (path or URL). */
  warcFile: string;
  /**
   * Where the record is in `warcFile`. For `member` (one gzip member per record, as Common
   * Crawl writes) and `plain` (uncompressed WARC), `offset`/`length` is the byte range that
   * one HTTP Range request fetches back and that decodes alone. For `decompressed` (a record
   * inside a gzip member holding several records, e.g. a whole-file-gzipped WARC) they are
   * positions in the decompressed stream.
   */
  offset: number;
  length: number;
  offsetKind: OffsetKind;
  recordId: string;
  /** WARC-Date (fetch time), as written. */
  date: string;
  status: number;
  /** HTTP Content-Type header, as sent. */
  contentType: string;
  /** WARC-Identified-Payload-Type (the crawler's own detection), when present. */
  identifiedType: string | undefined;
  /** HTTP response headers, names lower-cased. */
  httpHeaders: Record<string, string>;
  /** The HTTP payload: de-chunked and content-decoded. */
  body: Buffer;
  /** True if the body is not the whole page (WARC-Truncated, or cut at the size cap). */
  truncated: boolean;
  /** Why: the WARC-Truncated value (length, time, disconnect, …) or "cap". */
  truncatedReason: string | undefined;
}
