import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nullLogger } from "../../src/core/log.js";
import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { LangId } from "../../src/extract/lang.js";
import { Extractor } from "../../src/extract/pool.js";
import { planRanges } from "../../src/extract/ranges.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { runGate } from "../../src/rounds/firstpass.js";
import { type IngestStats, ingest } from "../../src/rounds/ingest.js";
import { WorkStore } from "../../src/store/store.js";
import { localSource } from "../../src/warc/source.js";
import { ROOT, tmpDir } from "../helpers.js";
import { gzipMember, noiseHtml, requestRecord, responseRecord } from "../warc/build.js";

/** [speed]: a crawl's local files are read in ranges on the extraction workers, and store exactly what one pass stores. */
const SAMPLE = path.join(ROOT, "data", "crawl-sample.warc.gz");
const OPTS = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS, features: true };

let lang: LangId;
beforeAll(() => {
  lang = new LangId();
});
afterAll(async () => {
  await lang.close();
});

/** Everything a crawl stored: documents with their features, drops and the files' stats. */
function dump(store: WorkStore): { docs: unknown[]; drops: unknown[]; files: unknown[] } {
  return {
    docs: store.db.prepare("SELECT d.*, f.hashes FROM documents d LEFT JOIN features f ON f.doc_id = d.id ORDER BY d.id").all(),
    drops: store.db.prepare("SELECT file, stage, reason, count FROM drops ORDER BY file, stage, reason").all(),
    files: store.db.prepare("SELECT name, status, pages, kept, url_dups, stats FROM files ORDER BY name").all(),
  };
}

/** One crawl of `file` into a new store: on `threads` workers (0: inline, one pass on the main thread). */
async function crawl(file: string, threads: number, rangeBytes?: number, pageTimeoutMs?: number): Promise<{ store: WorkStore; ing: IngestStats; ranges: number }> {
  const store = new WorkStore(path.join(tmpDir("mc-ranges-"), "work.sqlite"));
  const ex = new Extractor({ ...OPTS, ...(pageTimeoutMs ? { pageTimeoutMs } : {}) }, threads);
  let ranges = 0;
  const read = ex.readRange.bind(ex);
  ex.readRange = (t) => {
    ranges++;
    return read(t);
  };
  try {
    const ing = await ingest([localSource(file, path.basename(file))], store, ex, lang, { maxRecordBytes: 8 << 20, pipeline: { ...OPTS, langs: [], window: ex.window }, logger: nullLogger, fileNo: () => 0, ...(rangeBytes ? { rangeBytes } : {}) });
    return { store, ing, ranges };
  } finally {
    await ex.close();
  }
}

const counts = (i: IngestStats) => ({ files: i.files, failed: i.failed, pages: i.pages, kept: i.kept, urlDups: i.urlDups, warc: i.warc.dropped.toJSON(), extract: i.extract.toJSON() });

describe("a local file read in ranges on the workers", () => {
  it("stores exactly what one pass stores: the bundled crawl in ~40 ranges on 2 workers against one inline pass (ids, rows, features, drops, file stats)", async () => {
    expect(planRanges(SAMPLE, 256 << 10).length).toBeGreaterThan(30);
    const one = await crawl(SAMPLE, 0);
    const ranged = await crawl(SAMPLE, 2, 256 << 10);
    expect(one.ranges).toBe(0);
    expect(ranged.ranges).toBeGreaterThanOrEqual(planRanges(SAMPLE, 256 << 10).length);
    expect(ranged.ing.pages).toBeGreaterThan(500);
    expect(counts(ranged.ing)).toEqual(counts(one.ing));
    expect(ranged.ing.warc.bytesIn).toBe(fs.statSync(SAMPLE).size);
    expect(dump(ranged.store)).toEqual(dump(one.store));
    one.store.close();
    ranged.store.close();
  }, 240_000);

  it("a range that begins on a gzip member stored inside another record's bytes is read again from where the range before it stopped", async () => {
    // a record whose payload is a gzipped WARC record, itself stored uncompressed (deflate level 0):
    // a member that holds a WARC record lies inside another member's bytes
    const page = (i: number) => `<html><head><title>page ${i}</title></head><body><p>${`Page ${i} is a page of ordinary prose about nothing in particular. `.repeat(20)}</p></body></html>`;
    const inner = gzipMember(responseRecord("http://inner.example/hidden", page(999)));
    const parts: Buffer[] = [gzipMember(requestRecord("http://example.org/start"))];
    for (let i = 0; i < 8; i++) parts.push(gzipMember(responseRecord(`http://example.org/noise${i}`, noiseHtml(20_000, i + 1))));
    const outer = zlib.gzipSync(responseRecord("http://example.org/archive.warc.gz", inner, "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\n"), { level: 0 });
    const before = Buffer.concat(parts).length;
    parts.push(outer);
    for (let i = 0; i < 30; i++) parts.push(gzipMember(responseRecord(`http://example.org/p${i}`, page(i) + noiseHtml(6_000, 100 + i))));
    const file = path.join(tmpDir("mc-ranges-"), "nested.warc.gz");
    const bytes = Buffer.concat(parts);
    fs.writeFileSync(file, bytes);
    const innerAt = bytes.indexOf(inner, before);
    expect(innerAt).toBeGreaterThan(before);
    // the second range starts inside the outer member, just before the inner one
    const rangeBytes = innerAt - 5;
    expect(planRanges(file, rangeBytes).length).toBeGreaterThanOrEqual(2);
    const ex = new Extractor(OPTS, 1);
    try {
      const alone = await ex.readRange({ file, name: "nested.warc.gz", range: { start: rangeBytes, end: 2 * rangeBytes }, maxRecordBytes: 8 << 20 });
      expect(alone.began).toBe(innerAt); // read alone, the range takes the stored member for a record
      expect(alone.pages.map((p) => p.page.url)).toContain("http://inner.example/hidden");
    } finally {
      await ex.close();
    }
    const one = await crawl(file, 0);
    const ranged = await crawl(file, 2, rangeBytes);
    expect(ranged.ranges).toBeGreaterThan(planRanges(file, rangeBytes).length); // the second range was read again
    expect(counts(ranged.ing)).toEqual(counts(one.ing));
    expect(dump(ranged.store)).toEqual(dump(one.store));
    const urls = (ranged.store.db.prepare("SELECT url FROM documents").all() as Array<{ url: string }>).map((r) => r.url);
    expect(urls).not.toContain("http://inner.example/hidden");
    expect(urls.filter((u) => /\/p\d+$/.test(u))).toHaveLength(30);
    expect(ranged.ing.warc.dropped.toJSON()).toEqual({ not_html: 1, request: 1 });
    one.store.close();
    ranged.store.close();
  }, 120_000);

  it("a page past --page-timeout in a range is dropped as extract_timeout; the range is read again without it and every other page is stored", async () => {
    const slow = "<html><body>" + "<div><p>some words here and there <b>bold</b> <a href='x'>link</a></p></div>".repeat(40_000) + "</body></html>";
    const page = (i: number) => `<html><head><title>p${i}</title></head><body><p>${`Page ${i} has ordinary text about several things. `.repeat(30)}</p></body></html>`;
    const parts: Buffer[] = [gzipMember(requestRecord("http://example.org/start"))];
    for (let i = 0; i < 24; i++) parts.push(gzipMember(responseRecord(`http://example.org/p${i}`, i === 13 ? slow : page(i) + noiseHtml(4_000, i + 1))));
    const file = path.join(tmpDir("mc-ranges-"), "slow.warc.gz");
    fs.writeFileSync(file, Buffer.concat(parts));
    const rangeBytes = 20_000;
    expect(planRanges(file, rangeBytes).length).toBeGreaterThan(3);
    const r = await crawl(file, 2, rangeBytes, 150);
    expect(r.ing.pages).toBe(24);
    expect(r.ing.extract.dropped.toJSON()).toEqual({ extract_timeout: 1 });
    expect(r.ing.kept).toBe(23);
    const titles = (r.store.db.prepare("SELECT title FROM documents ORDER BY id").all() as Array<{ title: string }>).map((x) => x.title);
    expect(titles).toEqual([...Array(24).keys()].filter((i) => i !== 13).map((i) => `p${i}`));
    // ids are the pages' places in the file, the dropped page's included
    const ids = (r.store.db.prepare("SELECT id FROM documents ORDER BY id").all() as Array<{ id: number }>).map((x) => x.id);
    expect(ids).toEqual([...Array(24).keys()].filter((i) => i !== 13).map((i) => i + 1));
    r.store.close();
  }, 120_000);

  it("the candidate pool's gate samples the first pages of a file in ranges on the workers: the same sample, hence the same model, as one pass on the main thread", async () => {
    const gate = async (extractor?: Extractor) => {
      const dir = tmpDir("mc-ranges-gate-");
      const store = new WorkStore(path.join(dir, "work.sqlite"));
      try {
        const common = { runDir: dir, sources: [localSource(SAMPLE, "data/crawl-sample.warc.gz")], seeds: path.join(ROOT, "seeds"), heldOut: 0.1, recall: 0.995, sample: 300, seed: 1, threads: 1, deterministic: true, maxRecordBytes: 8 << 20, logger: nullLogger, warn: () => {} };
        return (await runGate(store, { ...common, ...(extractor ? { extractor, rangeBytes: 256 << 10 } : {}) })).info;
      } finally {
        store.close();
      }
    };
    const ex = new Extractor(OPTS, 2);
    let ranges = 0;
    const read = ex.readRange.bind(ex);
    ex.readRange = (t) => {
      ranges++;
      expect(t.cheap).toBe(12_000);
      return read(t);
    };
    try {
      const onWorkers = await gate(ex);
      const onMain = await gate();
      expect(ranges).toBeGreaterThan(1);
      expect(onWorkers.sample).toBe(300);
      expect(onWorkers.sha256).toBe(onMain.sha256);
      expect(onWorkers.bar).toBe(onMain.bar);
    } finally {
      await ex.close();
    }
  }, 240_000);
});
