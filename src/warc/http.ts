import { setTimeout as sleep } from "node:timers/promises";
import { type Dispatcher, request } from "undici";
import { RetryableError, SourceError, errorMessage } from "../core/errors.js";
import type { Logger } from "../core/log.js";

/**
 * Streaming HTTP(S) reads of large files that survive what Common Crawl's servers do:
 * 503 "SlowDown" and 429 bursts, other 5xx, connection resets and stalls are retried with
 * exponential backoff and full jitter (Retry-After honoured); a transfer that breaks
 * mid-file resumes with a Range request from the next byte not yet received, guarded by
 * the ETag so a file that changed is never spliced. An HTML or XML body (an error page
 * from a proxy or S3) is never handed on as file bytes.
 */
export interface HttpOptions {
  /** Attempts after the first, per stretch without progress. */
  retries: number;
  /** First backoff delay; doubles each attempt. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A body that sends nothing for this long is a stall: the connection is dropped and resumed. */
  stallMs: number;
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  logger?: Logger;
  userAgent?: string;
}

/** How a transfer ended: `confirmed` when a length, chunked framing or a 416 showed it was the file's end. */
export interface TransferEnd {
  confirmed: boolean;
  at: number;
}

export const DEFAULT_HTTP: HttpOptions = {
  retries: 8,
  backoffMs: 500,
  maxBackoffMs: 30_000,
  stallMs: 60_000,
  userAgent: "mathcorpus/0.1 (+https://github.com/mathcorpus)",
};

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_BODY_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_CLOSED",
]);

function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableError) return true;
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && RETRY_CODES.has(code)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

function backoff(attempt: number, opts: HttpOptions, retryAfter?: string | string[]): number {
  const ra = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (ra && /^\d+$/.test(ra)) return Math.min(Number(ra) * 1000, opts.maxBackoffMs);
  const cap = Math.min(opts.maxBackoffMs, opts.backoffMs * 2 ** attempt);
  return cap / 2 + Math.random() * (cap / 2);
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

async function snippet(body: Dispatcher.ResponseData["body"]): Promise<string> {
  try {
    const text = await body.text();
    return text.slice(0, 200).replace(/\s+/g, " ").trim();
  } catch {
    return "";
  }
}

/**
 * The first `bytes` bytes of a file at `url`, its size (Content-Range's total, or the length of a
 * 200 answer) and ETag, with the same retries: what is needed to cut it into ranges. Undefined
 * size: unknown.
 */
export async function httpHead(url: string, opts: HttpOptions, bytes: number): Promise<{ head: Buffer; size: number | undefined; etag: string | undefined }> {
  let size: number | undefined;
  let etag: string | undefined;
  const parts: Buffer[] = [];
  const onResponse = (status: number, h: Record<string, string | string[] | undefined>) => {
    etag = header(h, "etag");
    const total = /\/(\d+)\s*$/.exec(header(h, "content-range") ?? "")?.[1];
    const length = header(h, "content-length");
    size = total !== undefined ? Number(total) : status === 200 && length !== undefined ? Number(length) : undefined;
  };
  try {
    for await (const chunk of httpBytes(url, 0, opts, { end: bytes, onResponse })) parts.push(chunk);
  } catch (err) {
    // a file shorter than `bytes` ends in a 416 for the rest: what came is all of it
    if (!(size !== undefined && size < bytes && Buffer.concat(parts).length === size)) throw err;
  }
  return { head: Buffer.concat(parts), size, etag };
}

/** Whole small resources (listings), with the same retries. */
export async function fetchBuffer(url: string, opts: HttpOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of httpBytes(url, 0, opts, { allowMarkup: false })) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * The bytes of `url` from `start` to its end (or to `end`, exclusive: one bounded Range request,
 * as a page is fetched back by its offset and length), as a stream of chunks. Throws SourceError
 * (naming the URL and the offset reached) when retries are exhausted or the answer is final.
 */
export async function* httpBytes(
  url: string,
  start: number,
  opts: HttpOptions,
  {
    allowMarkup = false,
    onEnd,
    end,
    etag: expected,
    onResponse,
  }: {
    allowMarkup?: boolean;
    onEnd?: (end: TransferEnd) => void;
    end?: number;
    /** The ETag an earlier request saw (a range of the file read apart): another one fails the source. */
    etag?: string;
    /** The first answer's status and headers (size, ETag), before its body. */
    onResponse?: (status: number, headers: Record<string, string | string[] | undefined>) => void;
  } = {},
): AsyncGenerator<Buffer> {
  let pos = start;
  let attempt = 0;
  let etag: string | undefined = expected;
  let answered = false;
  let lastError = "";
  for (;;) {
    if (attempt > opts.retries) {
      throw new SourceError(url, `giving up after ${opts.retries} retries: ${lastError}`, pos);
    }
    const headers: Record<string, string> = { "user-agent": opts.userAgent ?? "mathcorpus" };
    if (end !== undefined) {
      headers.range = `bytes=${pos}-${end - 1}`;
      if (etag) headers["if-range"] = etag;
    } else if (pos > 0) {
      headers.range = `bytes=${pos}-`;
      if (etag) headers["if-range"] = etag;
    }
    let retryAfter: string | undefined;
    try {
      const res = await request(url, {
        method: "GET",
        headers,
        bodyTimeout: opts.stallMs,
        headersTimeout: opts.stallMs,
        ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      const h = res.headers;
      if (!answered && (res.statusCode === 200 || res.statusCode === 206)) {
        answered = true;
        onResponse?.(res.statusCode, h);
      }
      retryAfter = header(h, "retry-after");
      if (res.statusCode === 416 && end !== undefined) {
        await res.body.dump();
        throw new SourceError(url, `has no bytes ${pos}-${end - 1} (HTTP 416): the file is shorter than it was when read`, pos);
      }
      if (res.statusCode === 416 && pos > 0) {
        await res.body.dump();
        onEnd?.({ confirmed: true, at: pos });
        return;
      }
      if (RETRY_STATUS.has(res.statusCode) || (res.statusCode >= 500 && res.statusCode < 600)) {
        const text = await snippet(res.body);
        throw new RetryableError(`HTTP ${res.statusCode}${text ? ` (${text})` : ""}`);
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        const text = await snippet(res.body);
        throw new SourceError(url, `HTTP ${res.statusCode}${text ? `: ${text}` : ""}`, pos);
      }
      const ctype = (header(h, "content-type") ?? "").toLowerCase();
      if (!allowMarkup && /(html|xml)/.test(ctype)) {
        const text = await snippet(res.body);
        throw new SourceError(url, `server answered with ${ctype}, not a WARC file (${text})`, pos);
      }
      const newEtag = header(h, "etag");
      if (etag && newEtag && newEtag !== etag) {
        await res.body.dump();
        throw new SourceError(url, `the file changed during the transfer (ETag ${etag} → ${newEtag})`, pos);
      }
      etag = etag ?? newEtag;
      let skip = 0;
      if ((pos > 0 || end !== undefined) && res.statusCode === 200) {
        skip = pos; // the server ignored Range: read from the start and drop what we have
      } else if (res.statusCode === 206) {
        const m = /bytes (\d+)-/.exec(header(h, "content-range") ?? "");
        if (!m || Number(m[1]) !== pos) {
          await res.body.dump();
          throw new SourceError(url, `asked for bytes from ${pos}, got Content-Range ${JSON.stringify(header(h, "content-range"))}`, pos);
        }
      }
      const before = pos;
      for await (const raw of res.body as AsyncIterable<Buffer>) {
        let chunk = raw;
        if (skip > 0) {
          if (chunk.length <= skip) {
            skip -= chunk.length;
            continue;
          }
          chunk = chunk.subarray(skip);
          skip = 0;
        }
        if (end !== undefined && pos + chunk.length >= end) {
          // the range is complete: the rest of a 200 answer is not wanted
          chunk = chunk.subarray(0, end - pos);
          pos = end;
          yield chunk;
          break;
        }
        pos += chunk.length;
        attempt = 0;
        yield chunk;
      }
      if (end !== undefined) {
        if (pos >= end) {
          onEnd?.({ confirmed: true, at: pos });
          return;
        }
        if (pos === before) throw new SourceError(url, `ends at byte ${pos}, before ${end}: the file is shorter than it was when read`, pos);
        continue; // cut short: ask for the rest of the range
      }
      // A body with a length or chunked framing that ended is whole (undici fails a short one).
      // A body without either ends when the connection closes, which a cut transfer does too:
      // ask for the bytes after it, and only a 416 (or a check that brings nothing) ends the file.
      const total = /\/(\d+)\s*$/.exec(header(h, "content-range") ?? "")?.[1];
      if (header(h, "content-length") !== undefined || /chunked/i.test(header(h, "transfer-encoding") ?? "") || (total !== undefined && Number(total) === pos)) {
        onEnd?.({ confirmed: true, at: pos });
        return;
      }
      if (pos === before) {
        onEnd?.({ confirmed: false, at: pos });
        return;
      }
      opts.logger?.log("info", "http_check_end", { url, offset: pos, note: "the body had no length; asking for the bytes after it" });
      continue;
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      if (err instanceof SourceError || !isRetryable(err)) {
        if (err instanceof SourceError) throw err;
        throw new SourceError(url, errorMessage(err), pos, { cause: err });
      }
      lastError = errorMessage(err);
      const delay = backoff(attempt, opts, retryAfter);
      opts.logger?.log("warn", "http_retry", { url, offset: pos, attempt: attempt + 1, delayMs: Math.round(delay), error: lastError });
      attempt++;
      await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : undefined);
    }
  }
}
