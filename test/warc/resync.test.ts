import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { fixture, readAll, tmpDir } from "../helpers.js";
import { MAX_SHADOW_BYTES } from "../../src/warc/framer.js";
import { gzipMember, members, noiseHtml, responseRecord } from "./build.js";

/**
 * Findings of the chaos campaign ([harden] #19, finding 1): a wrong Content-Length in a plain or
 * whole-file-gzip WARC, and junk before the first gzip member, must not lose the records after them.
 */
function write(name: string, data: Buffer): string {
  const file = path.join(tmpDir(), name);
  fs.writeFileSync(file, data);
  return file;
}

const URLS = Array.from({ length: 16 }, (_, i) => `https://site${i}.example/page/${i}`);
const RECORDS = URLS.map((u, i) => responseRecord(u, `<html><head><title>page ${i}</title></head><body><p>${"text ".repeat(200 + i)}</p></body></html>`));

/** The records with record `at`'s WARC Content-Length replaced by `cl(n)`. */
function withLength(at: number, cl: (n: number) => string): Buffer[] {
  return RECORDS.map((r, i) =>
    i !== at ? r : Buffer.from(r.toString("latin1").replace(/Content-Length: (\d+)\r\n\r\nHTTP/, (_m, n: string) => `Content-Length: ${cl(Number(n))}\r\n\r\nHTTP`), "latin1"),
  );
}

describe("a wrong Content-Length loses only its own record (plain and whole-file gzip)", () => {
  for (const [label, cl] of [
    ["huge", () => "999999999999"],
    ["+1,000", (n: number) => String(n + 1000)],
    ["+100,000 (several records swallowed)", (n: number) => String(n + 100_000)],
    ["+6 (into the next record's version line)", (n: number) => String(n + 6)],
  ] as const) {
    for (const gz of [false, true]) {
      it(`${label}, ${gz ? "one gzip member for the whole file" : "plain"}`, async () => {
        const recs = withLength(1, cl);
        const bytes = Buffer.concat(recs);
        const file = write(gz ? "cl.warc.gz" : "cl.warc", gz ? zlib.gzipSync(bytes) : bytes);
        const { pages, stats } = await readAll(file);
        expect(pages.map((p) => p.url)).toEqual(URLS.filter((_, i) => i !== 1));
        expect(stats.dropped.toJSON()).toEqual({ length_mismatch: 1 });
        expect(stats.issues[0]).toMatchObject({ reason: "length_mismatch", offset: RECORDS[0]!.length });
        const declared = cl(Number(/Content-Length: (\d+)\r\n\r\nHTTP/.exec(RECORDS[1]!.toString("latin1"))![1]));
        expect(stats.issues[0]!.message).toContain(`Content-Length ${declared} `);
        expect(stats.issues[0]!.message).toMatch(/reading on from the record at (decompressed )?offset \d+/);
        // the records after it keep their own offsets
        if (!gz) expect(pages[1]!.offset).toBe(recs[0]!.length + recs[1]!.length);
      });
    }
  }

  it("a huge Content-Length followed by more than 16 MB of records: judged wrong at the cap, every later record read", async () => {
    const big = Array.from({ length: 200 }, (_, i) => responseRecord(`https://big${i}.example/`, noiseHtml(90_000, i + 1)));
    const bad = withLength(0, () => "99999999999")[0]!;
    const bytes = Buffer.concat([bad, ...big]);
    expect(bytes.length).toBeGreaterThan(MAX_SHADOW_BYTES);
    const { pages, stats } = await readAll(write("big.warc", bytes));
    expect(pages.map((p) => p.url)).toEqual(big.map((_, i) => `https://big${i}.example/`));
    expect(stats.dropped.toJSON()).toEqual({ length_mismatch: 1 });
    expect(stats.issues[0]!.message).toMatch(/runs more than 16 MB past a record header inside it; reading on from the record at offset \d+/);
  });

  it("the last record with a huge Content-Length is reported as a mismatch or truncation, nothing else lost", async () => {
    const recs = withLength(15, () => "999999999");
    const { pages, stats } = await readAll(write("last.warc", Buffer.concat(recs)));
    expect(pages.map((p) => p.url)).toEqual(URLS.slice(0, 15));
    expect(stats.dropped.toJSON()).toEqual({ truncated_record: 1 });
  });

  it("a well-framed page that quotes a WARC record is one page, not split", async () => {
    const quoted = "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n";
    const recs = [...RECORDS.slice(0, 2), responseRecord("https://spec.example/warc", `<html><body><pre>\n${quoted}</pre><p>${"more ".repeat(500)}</p></body></html>`, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"), ...RECORDS.slice(2)];
    for (const gz of [false, true]) {
      const bytes = Buffer.concat(recs);
      const { pages, stats } = await readAll(write(gz ? "spec.warc.gz" : "spec.warc", gz ? zlib.gzipSync(bytes) : bytes));
      expect(pages.map((p) => p.url)).toEqual([URLS[0], URLS[1], "https://spec.example/warc", ...URLS.slice(2)]);
      expect(pages[2]!.body.toString("latin1")).toContain("hello");
      expect(stats.dropped.toJSON()).toEqual({});
    }
  });
});

describe("junk before the first record", () => {
  const CC = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");

  for (const junk of ["x", "\0", "junk before the file\n", "\x1f"]) {
    it(`${JSON.stringify(junk)} before the first gzip member of a Common-Crawl-style file is skipped with one error`, async () => {
      const bytes = Buffer.concat([Buffer.from(junk, "latin1"), ...RECORDS.map(gzipMember)]);
      const { pages, stats } = await readAll(write("junk.warc.gz", bytes));
      expect(pages.map((p) => p.url)).toEqual(URLS);
      expect(pages[0]!.offset).toBe(junk.length);
      expect(stats.dropped.toJSON()).toEqual({ corrupt_gzip: 1 });
      expect(stats.issues[0]).toMatchObject({ reason: "corrupt_gzip", offset: 0 });
      expect(stats.filesFailed).toBe(0);
    });
  }

  it("a junk byte before a real Common Crawl excerpt loses no page", async () => {
    const all = (await readAll(CC)).pages.map((p) => p.url);
    const { pages, stats } = await readAll(write("cc.warc.gz", Buffer.concat([Buffer.from("J"), fs.readFileSync(CC)])));
    expect(pages.map((p) => p.url)).toEqual(all);
    expect(stats.dropped.get("corrupt_gzip")).toBe(1);
    expect(members(CC).length).toBeGreaterThan(16);
  });

  it("junk before the first record of a plain WARC is skipped with one error", async () => {
    const { pages, stats } = await readAll(write("junk.warc", Buffer.concat([Buffer.from("garbage line\r\n\r\n"), ...RECORDS])));
    expect(pages.map((p) => p.url)).toEqual(URLS);
    expect(stats.dropped.toJSON()).toEqual({ bad_record: 1 });
    expect(stats.issues[0]).toMatchObject({ reason: "bad_record", offset: 0 });
  });

  it("a file with no WARC record in its first megabyte is still not a WARC", async () => {
    const { pages, stats } = await readAll(write("page.warc.gz", Buffer.from(`<html>${"x".repeat(100_000)}</html>`)));
    expect(pages).toHaveLength(0);
    expect(stats.dropped.toJSON()).toEqual({ not_warc: 1 });
    expect(stats.filesFailed).toBe(1);
  });
});

describe("junk that does not end a line, or looks like gzip", () => {
  it("junk between records without a line feed before the next version line loses no record (plain and whole-file gzip)", async () => {
    const recs = [...RECORDS.slice(0, 3), Buffer.from("xyz"), ...RECORDS.slice(3)];
    for (const gz of [false, true]) {
      const bytes = Buffer.concat(recs);
      const { pages, stats } = await readAll(write(gz ? "between.warc.gz" : "between.warc", gz ? zlib.gzipSync(bytes) : bytes));
      expect(pages.map((p) => p.url)).toEqual(URLS);
      expect(stats.dropped.toJSON()).toEqual({ bad_record: 1 });
      if (!gz) expect(pages[3]!.offset).toBe(Buffer.concat(recs.slice(0, 4)).length);
    }
  });

  it("junk that starts with the gzip magic before a plain WARC is skipped, not read as gzip", async () => {
    const { pages, stats } = await readAll(write("fakegz.warc", Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from("junk\n"), ...RECORDS])));
    expect(pages.map((p) => p.url)).toEqual(URLS);
    expect(stats.dropped.toJSON()).toEqual({ bad_record: 1 });
    expect(stats.filesFailed).toBe(0);
  });

  it("a whole-file gzip whose inflated bytes start with junk is read as gzip", async () => {
    const { pages, stats } = await readAll(write("junkin.warc.gz", zlib.gzipSync(Buffer.concat([Buffer.from("junk line\n"), ...RECORDS]))));
    expect(pages.map((p) => p.url)).toEqual(URLS);
    expect(stats.dropped.toJSON()).toEqual({ bad_record: 1 });
  });
});

describe("gzip trailers are checked (CRC32 and length)", () => {
  /** `buf` with byte `at` (negative: from the end) xor-ed with 0xff. */
  const flip = (buf: Buffer, at: number): Buffer => {
    const b = Buffer.from(buf);
    const i = at < 0 ? b.length + at : at;
    b[i] = b[i]! ^ 0xff;
    return b;
  };

  it("a one-record member that fails its CRC is dropped as corrupt_gzip; the others are read", async () => {
    const gz = RECORDS.map(gzipMember);
    gz[4] = flip(gz[4]!, -8); // first byte of the CRC32
    gz[9] = flip(gz[9]!, -2); // the length
    const { pages, stats } = await readAll(write("crc.warc.gz", Buffer.concat(gz)));
    expect(pages.map((p) => p.url)).toEqual(URLS.filter((_, i) => i !== 4 && i !== 9));
    expect(stats.dropped.toJSON()).toEqual({ corrupt_gzip: 2 });
    expect(stats.issues.map((i) => [i.offset, /fails its (CRC32|length) check/.exec(i.message)?.[1]])).toEqual([
      [Buffer.concat(gz.slice(0, 4)).length, "CRC32"],
      [Buffer.concat(gz.slice(0, 9)).length, "length"],
    ]);
  });

  it("a member of many records that fails its CRC is read and reported, in memory and streamed", async () => {
    const small = flip(zlib.gzipSync(Buffer.concat(RECORDS)), -5);
    const big = Array.from({ length: 40 }, (_, i) => responseRecord(`https://big${i}.example/`, noiseHtml(90_000, i + 1)));
    const large = flip(zlib.gzipSync(Buffer.concat(big)), -7);
    expect(large.length).toBeGreaterThan(1 << 20); // past the in-memory window: streamed
    for (const [name, bytes, urls] of [
      ["small.warc.gz", small, URLS],
      ["large.warc.gz", large, big.map((_, i) => `https://big${i}.example/`)],
    ] as const) {
      const { pages, stats } = await readAll(write(name, bytes));
      expect(pages.map((p) => p.url)).toEqual(urls);
      expect(stats.dropped.toJSON()).toEqual({ corrupt_gzip: 1 });
      expect(stats.issues[0]).toMatchObject({ reason: "corrupt_gzip", offset: 0 });
      expect(stats.issues[0]!.message).toMatch(/fails its CRC32 check .*may be damaged/);
    }
  });
});

describe("a damaged member whose deflate stream ends elsewhere loses only its own record", () => {
  const CC = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");
  // bit flips found by the chaos suite on this real Common Crawl excerpt: [offset, bit]. The first
  // three move the end of their member's deflate stream past the next member's start; the last
  // makes its member's stream run on to the end of the file.
  for (const [at, bit] of [
    [47843, 32],
    [38078, 1],
    [87275, 2],
    [119413, 4],
  ] as const) {
    it(`a flip at ${at}`, async () => {
      const original = fs.readFileSync(CC);
      const ms = members(CC);
      const hit = ms.findIndex((m) => at >= m.offset && at < m.offset + m.length);
      const own = await readAll(write("one.warc.gz", original.subarray(ms[hit]!.offset, ms[hit]!.offset + ms[hit]!.length)));
      const all = (await readAll(CC)).pages.map((p) => p.url);
      const bytes = Buffer.from(original);
      bytes[at] = bytes[at]! ^ bit;
      const { pages, stats } = await readAll(write("flip.warc.gz", bytes));
      expect(pages.map((p) => p.url)).toEqual(all.filter((u) => !own.pages.some((p) => p.url === u)));
      expect(stats.dropped.get("corrupt_gzip")).toBeGreaterThanOrEqual(1);
      expect(stats.dropped.get("truncated_gzip")).toBe(0);
      expect(stats.issues[0]).toMatchObject({ reason: "corrupt_gzip", offset: ms[hit]!.offset });
    });
  }
});
