import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { comparable, fixture, readAll, tmpDir } from "../helpers.js";
import { plainCc } from "./build.js";

const expected = JSON.parse(fs.readFileSync(fixture("warc", "expected-pages.json"), "utf8")) as Record<
  string,
  Array<{ url: string; offset: number; length: number; status: number }>
>;

describe("real WARC files", () => {
  for (const [name, pages] of Object.entries(expected)) {
    it(`${name}: exact pages, offsets and lengths`, async () => {
      const { pages: got, stats } = await readAll(fixture("warc", name));
      expect(got.map((p) => ({ url: p.url, offset: p.offset, length: p.length, status: p.status }))).toEqual(pages);
      expect(got.every((p) => p.offsetKind === "member")).toBe(true);
      expect(stats.pages).toBe(pages.length);
      expect(stats.errors()).toBe(0);
      expect(stats.filesFailed).toBe(0);
    });
  }

  it("counts every record that is not an HTML page under its reason (Common Crawl excerpt)", async () => {
    const { stats } = await readAll(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"));
    expect(stats.records).toBe(50);
    expect(stats.dropped.toJSON()).toEqual({ metadata: 16, request: 17, warcinfo: 1 });
  });

  it("reads the wget crawl's resource records and redirects as drops, not pages", async () => {
    const wget = await readAll(fixture("warc", "dolma-wget-sample-0000.warc.gz"));
    expect(wget.stats.dropped.toJSON()).toEqual({ metadata: 1, request: 22, resource: 2, warcinfo: 1 });
    const r = await readAll(fixture("warc", "hrbrmstr-20160901-00000.warc.gz"));
    expect(r.stats.dropped.toJSON()).toEqual({ http_redirect: 3, request: 9, warcinfo: 1 });
  });

  it("drops WET conversion records (text, not HTML)", async () => {
    const { pages, stats } = await readAll(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.wet.gz"));
    expect(pages).toHaveLength(0);
    expect(stats.dropped.toJSON()).toEqual({ conversion: 1, warcinfo: 1 });
  });

  it("reads ClueWeb09 (WARC/0.18, bare-LF headers, Content-Encoding kept on decoded bodies)", async () => {
    const { pages, stats } = await readAll(fixture("warc", "clueweb09-en-sample.warc.gz"));
    expect(pages).toHaveLength(100);
    expect(stats.dropped.toJSON()).toEqual({ warcinfo: 1 });
    expect(pages.every((p) => p.offsetKind === "decompressed")).toBe(true);
    expect(pages[0]!.url).toBe("http://www.smartwebby.com/DreamweaverTemplates/templates/business_general_template59.asp");
    expect(pages[0]!.body.subarray(0, 14).toString()).toBe("<!DOCTYPE HTML");
    expect(pages.every((p) => /<html/i.test(p.body.toString("latin1")))).toBe(true);
  });

  it("fills page fields from the WARC and HTTP headers", async () => {
    const { pages } = await readAll(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"));
    const p = pages[0]!;
    expect(p.url).toBe("https://an.wikipedia.org/wiki/Escopete");
    expect(p.host).toBe("an.wikipedia.org");
    expect(p.domain).toBe("wikipedia.org");
    expect(p.date).toBe("2024-05-18T01:58:10Z");
    expect(p.identifiedType).toBe("text/html");
    expect(p.contentType).toMatch(/^text\/html/);
    expect(p.truncated).toBe(false);
    expect(p.recordId).toMatch(/^<urn:uuid:/);
    expect(p.body.toString("utf8")).toContain("Escopete");
  });
});

describe("offsets fetch the record back", () => {
  it("each member range decodes alone into the page's record", async () => {
    const file = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");
    const bytes = fs.readFileSync(file);
    const { pages } = await readAll(file);
    for (const p of pages) {
      const rec = zlib.gunzipSync(bytes.subarray(p.offset, p.offset + p.length)).toString("latin1");
      expect(rec.startsWith("WARC/1.0\r\n")).toBe(true);
      expect(rec).toContain(`WARC-Target-URI: ${p.url}\r\n`);
      expect(rec.includes(p.body.subarray(0, 200).toString("latin1"))).toBe(true);
    }
  });

  it("plain WARC: the same pages, with exact byte ranges", async () => {
    const dir = tmpDir();
    const plain = plainCc();
    const file = path.join(dir, "cc.warc");
    fs.writeFileSync(file, plain);
    const gz = await readAll(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"));
    const { pages } = await readAll(file);
    expect(pages.map((p) => p.url)).toEqual(gz.pages.map((p) => p.url));
    expect(pages.map((p) => p.body.toString("base64"))).toEqual(gz.pages.map((p) => p.body.toString("base64")));
    for (const p of pages) {
      expect(p.offsetKind).toBe("plain");
      const rec = plain.subarray(p.offset, p.offset + p.length).toString("latin1");
      expect(rec.startsWith("WARC/1.0")).toBe(true);
      expect(rec.endsWith("\r\n\r\n")).toBe(true);
      expect(rec).toContain(`WARC-Target-URI: ${p.url}\r\n`);
    }
  });

  it("whole-file gzip: the same pages, offsets in the decompressed stream", async () => {
    const dir = tmpDir();
    const plain = plainCc();
    const file = path.join(dir, "cc-whole.warc.gz");
    fs.writeFileSync(file, zlib.gzipSync(plain));
    const gz = await readAll(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"));
    const { pages, stats } = await readAll(file);
    expect(stats.errors()).toBe(0);
    expect(pages.map((p) => comparable({ ...p, offset: 0, length: 0, offsetKind: "member" }))).toEqual(
      gz.pages.map((p) => comparable({ ...p, offset: 0, length: 0 })),
    );
    for (const p of pages) {
      expect(p.offsetKind).toBe("decompressed");
      expect(plain.subarray(p.offset, p.offset + 8).toString()).toBe("WARC/1.0");
    }
  });
});
