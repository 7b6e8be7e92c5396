import zlib from "node:zlib";
import { inflateZstd } from "../core/compressed.js";
import { getDomain } from "tldts";
import { AsyncIterReader, WARCParser } from "warcio";
import { type FramedRecord, headerEnd } from "./framer.js";
import type { Page } from "./page.js";
import { type DropReason, reasonForRecordType } from "./reasons.js";

export type RecordResult = { page: Page } | { drop: DropReason; message?: string };

const HTML_SNIFF = /^\s*(<!--[\s\S]*?-->\s*)*<(!doctype\s+html|html|head|body|title|meta)\b/i;

function isHtmlType(mime: string): boolean {
  const m = mime.split(";")[0]!.trim().toLowerCase();
  return m === "text/html" || m === "application/xhtml+xml" || m.endsWith("+html") || m === "application/vnd.wap.xhtml+xml";
}

/** Decides HTML-ness: the crawler's identified type first, then Content-Type, then a sniff of the body. */
export function looksLikeHtml(identified: string | undefined, contentType: string | undefined, body: Buffer): boolean {
  if (identified && identified.trim()) return isHtmlType(identified);
  if (contentType && contentType.trim()) return isHtmlType(contentType);
  return HTML_SNIFF.test(body.subarray(0, 1024).toString("latin1"));
}

/** Mostly printable text (or UTF-8) in the first bytes: not a compressed stream. */
function looksLikeText(body: Buffer): boolean {
  const head = body.subarray(0, 512);
  if (head.length === 0) return true;
  let bad = 0;
  for (const b of head) if (b < 9 || (b > 13 && b < 32) || b === 127) bad++;
  return bad / head.length < 0.02;
}

/** Reverses Content-Encoding; a cut body (size cap) is decoded as far as it goes. */
function decodeContent(body: Buffer, encoding: string, cut: boolean, max: number): Buffer | { error: string } {
  const enc = encoding.trim().toLowerCase();
  if (enc === "" || enc === "identity" || enc === "none" || enc === "utf-8" || enc === "binary") return body;
  const flush = cut ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {};
  try {
    if (enc === "gzip" || enc === "x-gzip") return zlib.gunzipSync(body, { ...flush, maxOutputLength: max });
    if (enc === "br") return zlib.brotliDecompressSync(body, { maxOutputLength: max });
    // browsers (Chrome ≥ 123) accept zstd, so browser-based crawlers store such bodies as sent
    if (enc === "zstd") return inflateZstd(body, max, cut);
    if (enc === "deflate") {
      try {
        return zlib.inflateSync(body, { ...flush, maxOutputLength: max });
      } catch {
        return zlib.inflateRawSync(body, { ...flush, maxOutputLength: max });
      }
    }
  } catch (err) {
    return { error: `cannot decode Content-Encoding ${enc}: ${(err as Error).message}` };
  }
  return { error: `unsupported Content-Encoding ${JSON.stringify(enc)}` };
}

async function dechunk(body: Buffer): Promise<Buffer> {
  const out = await new AsyncIterReader([body], null, true).readFully();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function hostAndDomain(url: string): { host: string; domain: string } | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  if (!host) return undefined;
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  return { host: bare, domain: getDomain(bare, { allowPrivateDomains: false }) ?? bare };
}

/** Rewrites a bare-LF header block (ClueWeb09 writes them) with CRLFs, which warcio's parser needs. */
export function crlfHead(buf: Buffer): Buffer {
  const end = headerEnd(buf, 0, 256 * 1024);
  if (end < 0 || buf[end - 2] === 13) return buf;
  const head = buf.subarray(0, end).toString("latin1").replace(/\r?\n/g, "\r\n");
  return Buffer.concat([Buffer.from(head, "latin1"), buf.subarray(end)]);
}

/** A response record that does not carry an HTTP message (Heritrix's dns: records, for one). */
function isNotHttp(rec: FramedRecord): boolean {
  const ct = (rec.fields.get("content-type") ?? "").toLowerCase();
  if (ct && !ct.includes("application/http")) return true;
  return /^<?dns:/i.test(rec.fields.get("warc-target-uri") ?? "");
}

/** Turns a framed `response` record into a page, or says why it is dropped. */
export async function toPage(rec: FramedRecord, warcFile: string, maxBodyBytes: number): Promise<RecordResult> {
  if (rec.type !== "response") return { drop: reasonForRecordType(rec.type) };
  if (isNotHttp(rec)) return { drop: "not_http" };
  // compressed=null: the block is already inflated (warcio would otherwise probe it with pako)
  const reader = new AsyncIterReader([crlfHead(rec.header), crlfHead(rec.block)], null);
  const parsed = await new WARCParser(reader, { keepHeadersCase: true }).parse();
  const http = parsed?.httpHeaders;
  const status = http?.statusCode;
  if (!parsed || !http || typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 999) {
    return { drop: "bad_http", message: `no valid HTTP status line (${JSON.stringify((http?.statusline ?? "").slice(0, 60))})` };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of http.headers as Map<string, string>) headers[k.toLowerCase()] = v;
  if (status >= 300 && status < 400) return { drop: "http_redirect" };
  if (status < 200 || status >= 300) return { drop: "http_error" };
  const raw = Buffer.from(await parsed.readFully(false));
  const identified = rec.fields.get("warc-identified-payload-type");
  const contentType = headers["content-type"] ?? "";
  let body: Buffer = raw;
  if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) body = await dechunk(body);
  const decoded = decodeContent(body, headers["content-encoding"] ?? "", rec.blockCut, maxBodyBytes);
  if (Buffer.isBuffer(decoded)) body = decoded;
  else if (!looksLikeText(body)) return { drop: "bad_content_encoding", message: decoded.error };
  // else: the archive stored the decoded body but kept the header (ClueWeb09 does); keep it as is
  if (body.length === 0) return { drop: "empty_body" };
  if (!looksLikeHtml(identified, contentType, body)) return { drop: "not_html" };
  const url = (rec.fields.get("warc-target-uri") ?? "").replace(/^<(.*)>$/, "$1").trim();
  const hd = hostAndDomain(url);
  if (!hd) return { drop: "bad_url", message: `unusable WARC-Target-URI ${JSON.stringify(url.slice(0, 200))}` };
  const warcTruncated = rec.fields.get("warc-truncated");
  const truncated = rec.blockCut || warcTruncated !== undefined;
  return {
    page: {
      url,
      host: hd.host,
      domain: hd.domain,
      warcFile,
      offset: rec.offset,
      length: rec.length,
      offsetKind: rec.offsetKind,
      recordId: rec.fields.get("warc-record-id") ?? "",
      date: rec.fields.get("warc-date") ?? "",
      status,
      contentType,
      identifiedType: identified,
      httpHeaders: headers,
      body,
      truncated,
      truncatedReason: rec.blockCut ? "cap" : warcTruncated,
    },
  };
}
