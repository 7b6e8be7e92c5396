import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { inflateZstd } from "../../src/core/compressed.js";
import { fixture, readAll, tmpDir } from "../helpers.js";
import { gzipMember, members, noiseHtml, plainCc, requestRecord, responseRecord } from "./build.js";

const CC = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");

function write(name: string, data: Buffer): string {
  const file = path.join(tmpDir(), name);
  fs.writeFileSync(file, data);
  return file;
}

async function ccUrls(): Promise<string[]> {
  return (await readAll(CC)).pages.map((p) => p.url);
}

describe("bad input: clear error with file and offset, counted, the rest goes on", () => {
  it("a truncated .warc.gz keeps every page before the cut and reports the member", async () => {
    const ms = members(CC);
    const cutMember = ms[30]!;
    const file = write("cut.warc.gz", fs.readFileSync(CC).subarray(0, cutMember.offset + Math.floor(cutMember.length / 2)));
    const { pages, stats } = await readAll(file);
    const before = (await readAll(CC)).pages.filter((p) => p.offset < cutMember.offset);
    expect(pages.map((p) => p.url)).toEqual(before.map((p) => p.url));
    expect(stats.dropped.get("truncated_gzip")).toBe(1);
    expect(stats.issues[0]).toMatchObject({ reason: "truncated_gzip", offset: cutMember.offset });
    expect(stats.issues[0]!.message).toContain(`offset ${cutMember.offset}`);
    expect(stats.issues[0]!.message).toContain("cut.warc.gz");
  });

  it("a corrupt gzip member is reported at its offset and reading resumes at the next member", async () => {
    const ms = members(CC);
    const bytes = Buffer.from(fs.readFileSync(CC));
    // find a response member and wreck its deflate data
    const target = ms.find((m) => m.data.toString("latin1").includes("WARC-Type: response"))!;
    for (let i = target.offset + 20; i < target.offset + 60; i++) bytes[i] = 0xff;
    const file = write("corrupt.warc.gz", bytes);
    const { pages, stats } = await readAll(file);
    const all = await ccUrls();
    expect(pages).toHaveLength(all.length - 1);
    expect(stats.dropped.get("corrupt_gzip")).toBe(1);
    expect(stats.issues[0]).toMatchObject({ reason: "corrupt_gzip", offset: target.offset });
    expect(stats.issues[0]!.message).toMatch(/resuming at \d+/);
  });

  it("garbage between gzip members is skipped with one error", async () => {
    const ms = members(CC);
    const at = ms[10]!.offset;
    const bytes = fs.readFileSync(CC);
    const file = write("junk.warc.gz", Buffer.concat([bytes.subarray(0, at), Buffer.from("<html>junk junk junk</html>".repeat(50)), bytes.subarray(at)]));
    const { pages, stats } = await readAll(file);
    expect(pages.map((p) => p.url)).toEqual(await ccUrls());
    expect(stats.dropped.get("corrupt_gzip")).toBe(1);
    expect(stats.issues[0]!.offset).toBe(at);
  });

  it("a Content-Length too small or too large in a plain WARC loses only that record", async () => {
    const good = responseRecord("https://a.example/1", "<html><body>one</body></html>");
    const bad = responseRecord("https://b.example/2", "<html><body>two two two</body></html>");
    const last = responseRecord("https://c.example/3", "<html><body>three</body></html>");
    const s = bad.toString("latin1");
    const m = /Content-Length: (\d+)\r\n\r\nHTTP/.exec(s)!;
    for (const delta of [-7, +9]) {
      const changed = s.replace(m[0], `Content-Length: ${Number(m[1]) + delta}\r\n\r\nHTTP`);
      const file = write("len.warc", Buffer.concat([good, Buffer.from(changed, "latin1"), last]));
      const { pages, stats } = await readAll(file);
      expect(pages.map((p) => p.url)).toEqual(["https://a.example/1", "https://c.example/3"]);
      expect(stats.dropped.get("length_mismatch")).toBe(1);
      expect(stats.issues[0]).toMatchObject({ reason: "length_mismatch", offset: good.length });
    }
  });

  it("a Content-Length past the end of its gzip member loses only that record", async () => {
    const a = responseRecord("https://a.example/1", "<html><body>one</body></html>");
    const b = Buffer.from(responseRecord("https://b.example/2", "<html><body>two</body></html>").toString("latin1").replace(/Content-Length: (\d+)\r\n\r\nHTTP/, (_m, n: string) => `Content-Length: ${Number(n) + 500}\r\n\r\nHTTP`), "latin1");
    const c = responseRecord("https://c.example/3", "<html><body>three</body></html>");
    const file = write("len.warc.gz", Buffer.concat([gzipMember(a), gzipMember(b), gzipMember(c)]));
    const { pages, stats } = await readAll(file);
    expect(pages.map((p) => p.url)).toEqual(["https://a.example/1", "https://c.example/3"]);
    expect(stats.dropped.get("length_mismatch")).toBe(1);
    expect(stats.issues[0]!.offset).toBe(gzipMember(a).length);
  });

  it("a record cut off by the end of a plain file is reported as truncated", async () => {
    const plain = plainCc();
    const file = write("cut.warc", plain.subarray(0, plain.length - 1000));
    const { pages, stats } = await readAll(file);
    expect(pages.length).toBeGreaterThan(10);
    expect(stats.dropped.get("truncated_record")).toBe(1);
  });

  it("bytes between records in a plain WARC: one error, the next record is found", async () => {
    const a = responseRecord("https://a.example/1", "<html><body>one</body></html>");
    const c = responseRecord("https://c.example/3", "<html><body>three</body></html>");
    const file = write("junk.warc", Buffer.concat([a, Buffer.from("this is not a record\nnor this\n"), c]));
    const { pages, stats } = await readAll(file);
    expect(pages.map((p) => p.url)).toEqual(["https://a.example/1", "https://c.example/3"]);
    expect(stats.dropped.toJSON()).toEqual({ bad_record: 1 });
    expect(stats.issues[0]!.offset).toBe(a.length);
  });

  it("a record without Content-Length is a bad record; the next one is read", async () => {
    const a = Buffer.from("WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://x.example/\r\n\r\nHTTP/1.1 200 OK\r\n\r\n<html></html>\r\n\r\n");
    const c = responseRecord("https://c.example/3", "<html><body>three</body></html>");
    const file = write("nocl.warc", Buffer.concat([a, c]));
    const { pages, stats } = await readAll(file);
    expect(pages.map((p) => p.url)).toEqual(["https://c.example/3"]);
    expect(stats.dropped.get("bad_record")).toBe(1);
    expect(stats.issues[0]!.message).toMatch(/Content-Length/);
  });

  it("a file that is not a WARC (an HTML error page) fails that file only, naming it", async () => {
    const file = write("error.warc.gz", Buffer.from("<html><body><h1>503 Service Unavailable</h1></body></html>"));
    const { pages, stats } = await readAll(file);
    expect(pages).toHaveLength(0);
    expect(stats.filesFailed).toBe(1);
    expect(stats.dropped.toJSON()).toEqual({ not_warc: 1 });
    expect(stats.issues[0]!.message).toMatch(/error\.warc\.gz: not a WARC file: starts with "<html>.*looks like HTML/);
  });

  it("an empty file is reported, not crashed on", async () => {
    const { stats } = await readAll(write("empty.warc.gz", Buffer.alloc(0)));
    expect(stats.dropped.toJSON()).toEqual({ empty_file: 1 });
    expect(stats.filesFailed).toBe(1);
  });

  it("records that are not HTML responses are counted by kind", async () => {
    const text = responseRecord("https://t.example/robots.txt", "User-agent: *\n", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
    const e404 = responseRecord("https://t.example/missing", "<html>not found</html>", "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n");
    const redirect = responseRecord("https://t.example/old", "", "HTTP/1.1 301 Moved\r\nLocation: /new\r\n");
    const badHttp = responseRecord("https://t.example/x", "<html></html>", "FTP nonsense\r\n");
    const empty = responseRecord("https://t.example/empty", "", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n");
    const noType = responseRecord("https://t.example/sniffed", "<!DOCTYPE html><html><body>ok</body></html>", "HTTP/1.1 200 OK\r\n");
    const file = write("kinds.warc", Buffer.concat([requestRecord("https://t.example/"), text, e404, redirect, badHttp, empty, noType]));
    const { pages, stats } = await readAll(file);
    expect(pages.map((p) => p.url)).toEqual(["https://t.example/sniffed"]);
    expect(stats.dropped.toJSON()).toEqual({ bad_http: 1, empty_body: 1, http_error: 1, http_redirect: 1, not_html: 1, request: 1 });
  });

  it("decodes chunked and gzip-encoded HTTP bodies", async () => {
    const html = "<html><body>chunked and gzipped body</body></html>";
    const gz = zlib.gzipSync(Buffer.from(html));
    const chunked = Buffer.concat([Buffer.from(`${gz.length.toString(16)}\r\n`), gz, Buffer.from("\r\n0\r\n\r\n")]);
    const rec = responseRecord("https://enc.example/", chunked, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n");
    const br = responseRecord("https://br.example/", zlib.brotliCompressSync(Buffer.from(html)), "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: br\r\n");
    const { pages, stats } = await readAll(write("enc.warc", Buffer.concat([rec, br])));
    expect(pages.map((p) => p.body.toString())).toEqual([html, html]);
    expect(stats.errors()).toBe(0);
  });

  it("decodes zstd-encoded HTTP bodies (as browser-based crawlers store them); a damaged one is dropped as bad_content_encoding", async () => {
    const page = fs.readFileSync(fixture("extract", "mathjax2.html"));
    const zst = fs.readFileSync(fixture("compressed", "mathjax2.html.zst"));
    const head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: zstd\r\n";
    const ok = responseRecord("https://zstd.example/", zst, head);
    const bad = responseRecord("https://zstd.example/bad", Buffer.concat([zst.subarray(0, 12), Buffer.alloc(64, 0xff)]), head);
    const { pages, stats } = await readAll(write("zstd.warc", Buffer.concat([ok, bad])));
    expect(pages.map((p) => p.url)).toEqual(["https://zstd.example/"]);
    expect(pages[0]!.body.equals(page)).toBe(true);
    expect(stats.dropped.toJSON()).toEqual({ bad_content_encoding: 1 });
    // bounded as node:zlib's maxOutputLength; a body cut at the cap inflates as far as it goes
    expect(() => inflateZstd(zst, 100, false)).toThrow(RangeError);
    const pages3 = fs.readFileSync(fixture("compressed", "planetmath-pages.html.zst")); // three blocks
    const whole = inflateZstd(pages3, 1 << 20, false);
    expect(whole.toString()).toContain("planetmath");
    const cut = inflateZstd(pages3.subarray(0, Math.floor(pages3.length * 0.8)), 1 << 20, true);
    expect(cut.length).toBeGreaterThan(100_000);
    expect(cut.length).toBeLessThan(whole.length);
    expect(whole.subarray(0, cut.length).equals(cut)).toBe(true);
    expect(() => inflateZstd(pages3.subarray(0, Math.floor(pages3.length * 0.8)), 1 << 20, false)).toThrow();
  });

  it("a body that claims gzip but is neither gzip nor text is dropped as bad_content_encoding", async () => {
    const rec = responseRecord("https://enc.example/", Buffer.from([0, 1, 2, 3, 4, 5, 0, 0, 0, 7, 8, 9]), "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n");
    const { stats } = await readAll(write("enc.warc", rec));
    expect(stats.dropped.toJSON()).toEqual({ bad_content_encoding: 1 });
  });

  it("a huge record is cut at the cap, marked truncated, streamed without buffering, and the next record is read", async () => {
    const big = responseRecord("https://big.example/", noiseHtml(6 << 20));
    const after = responseRecord("https://after.example/", "<html><body>after</body></html>");
    for (const [name, data] of [
      ["big.warc.gz", Buffer.concat([gzipMember(big), gzipMember(after)])],
      ["big.warc", Buffer.concat([big, after])],
    ] as const) {
      const { pages, stats } = await readAll(write(name, data), 1 << 20);
      expect(pages.map((p) => p.url)).toEqual(["https://big.example/", "https://after.example/"]);
      expect(pages[0]!.truncated).toBe(true);
      expect(pages[0]!.truncatedReason).toBe("cap");
      expect(pages[0]!.body.length).toBeLessThan(1 << 20);
      expect(pages[0]!.body.length).toBeGreaterThan((1 << 20) - 200);
      expect(pages[1]!.truncated).toBe(false);
      expect(stats.errors()).toBe(0);
    }
  });

  it("keeps WARC-Truncated from the crawler", async () => {
    const rec = responseRecord("https://t.example/", "<html><body>partial", undefined, "WARC-Truncated: length\r\n");
    const { pages } = await readAll(write("t.warc", rec));
    expect(pages[0]).toMatchObject({ truncated: true, truncatedReason: "length" });
  });
});
