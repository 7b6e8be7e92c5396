import fs from "node:fs";
import zlib from "node:zlib";

/** WARC records and files built byte by byte (independently of src/), for tests and the chaos campaign. */

/** Splits a .warc.gz into its gzip members with their offsets (independently of src/). */
export function members(file: string): Array<{ offset: number; length: number; data: Buffer }> {
  const d = fs.readFileSync(file);
  const out: Array<{ offset: number; length: number; data: Buffer }> = [];
  let off = 0;
  while (off < d.length) {
    // gunzipSync stops at the end of the first member when told the member's extent via info
    const r = zlib.inflateRawSync(d.subarray(off + 10), { info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    const len = 10 + r.engine.bytesWritten + 8;
    out.push({ offset: off, length: len, data: r.buffer });
    off += len;
  }
  return out;
}

export function gzipMember(data: Buffer | string): Buffer {
  return zlib.gzipSync(typeof data === "string" ? Buffer.from(data, "latin1") : data);
}

/** A WARC response record (plain bytes) with the given HTTP head and body. */
export function responseRecord(url: string, body: Buffer | string, httpHead = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=UTF-8\r\n", extraWarc = ""): Buffer {
  const b = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const block = Buffer.concat([Buffer.from(`${httpHead}Content-Length: ${b.length}\r\n\r\n`, "latin1"), b]);
  const head =
    `WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: ${url}\r\nWARC-Date: 2024-05-18T00:00:00Z\r\n` +
    `WARC-Record-ID: <urn:uuid:${url.length}-test>\r\nContent-Type: application/http; msgtype=response\r\n${extraWarc}` +
    `Content-Length: ${block.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), block, Buffer.from("\r\n\r\n")]);
}

export function requestRecord(url: string): Buffer {
  const block = Buffer.from(`GET / HTTP/1.1\r\nHost: example.org\r\n\r\n`);
  const head = `WARC/1.0\r\nWARC-Type: request\r\nWARC-Target-URI: ${url}\r\nContent-Type: application/http; msgtype=request\r\nContent-Length: ${block.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), block, Buffer.from("\r\n\r\n")]);
}

/** Deterministic incompressible printable text (so a record is large when compressed too). */
export function noiseHtml(bytes: number, seed = 1): string {
  let x = seed >>> 0 || 1;
  const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const parts: string[] = ["<html><body><p>"];
  let n = 15;
  const chunk: string[] = [];
  while (n < bytes - 20) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chunk.push(alphabet[(x >>> 0) % alphabet.length]!);
    n++;
    if (chunk.length === 4096) parts.push(chunk.splice(0).join(""));
  }
  parts.push(chunk.join(""), "</p></body></html>");
  return parts.join("");
}
