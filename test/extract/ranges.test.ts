import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nullLogger } from "../../src/core/log.js";
import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { LangId } from "../../src/extract/lang.js";
import { Extractor } from "../../src/extract/pool.js";
import { type RangePage, RangeFeed, type RangeTask, planRanges, readRange } from "../../src/extract/ranges.js";
import { extractPage } from "../../src/extract/extract.js";
import { type WarcIssue, WarcStats, readPages } from "../../src/warc/pages.js";
import { members } from "../warc/build.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { runGate } from "../../src/rounds/firstpass.js";
import { type IngestStats, ingest } from "../../src/rounds/ingest.js";
import { WorkStore } from "../../src/store/store.js";
import { type WarcSource, httpSource, localSource } from "../../src/warc/source.js";
import { DEFAULT_HTTP } from "../../src/warc/http.js";
import type { Logger } from "../../src/core/log.js";
import { type Faults, startFaultServer } from "../../scripts/chaos/faultserver.js";
import { ROOT, fixture, tmpDir } from "../helpers.js";
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

/** One crawl of `file` (a path, or a source) into a new store: on `threads` workers (0: inline, one pass on the main thread). */
async function crawl(file: string | WarcSource, threads: number, rangeBytes?: number, pageTimeoutMs?: number, logger: Logger = nullLogger): Promise<{ store: WorkStore; ing: IngestStats; ranges: number }> {
  const store = new WorkStore(path.join(tmpDir("mc-ranges-"), "work.sqlite"));
  const ex = new Extractor({ ...OPTS, ...(pageTimeoutMs ? { pageTimeoutMs } : {}) }, threads);
  let ranges = 0;
  const read = ex.readRange.bind(ex);
  ex.readRange = (t) => {
    ranges++;
    return read(t);
  };
  try {
    const source = typeof file === "string" ? localSource(file, path.basename(file)) : file;
    const ing = await ingest([source], store, ex, lang, { maxRecordBytes: 8 << 20, pipeline: { ...OPTS, langs: [], window: ex.window }, logger, fileNo: () => 0, ...(rangeBytes ? { rangeBytes } : {}) });
    return { store, ing, ranges };
  } finally {
    await ex.close();
  }
}

const counts = (i: IngestStats) => ({ files: i.files, failed: i.failed, pages: i.pages, kept: i.kept, urlDups: i.urlDups, warc: i.warc.dropped.toJSON(), extract: i.extract.toJSON() });

describe("a local file read in ranges on the workers", () => {
  it("stores exactly what one pass stores: the bundled crawl in ~40 ranges on 2 workers against one inline pass (ids, rows, features, drops, file stats)", async () => {
    expect((planRanges(SAMPLE, 256 << 10)?.length ?? 0)).toBeGreaterThan(30);
    const one = await crawl(SAMPLE, 0);
    const ranged = await crawl(SAMPLE, 2, 256 << 10);
    expect(one.ranges).toBe(0);
    expect(ranged.ranges).toBeGreaterThanOrEqual((planRanges(SAMPLE, 256 << 10)?.length ?? 0));
    expect(ranged.ing.pages).toBeGreaterThan(500);
    expect(counts(ranged.ing)).toEqual(counts(one.ing));
    expect(ranged.ing.warc.bytesIn).toBe(fs.statSync(SAMPLE).size);
    expect(dump(ranged.store)).toEqual(dump(one.store));
    one.store.close();
    ranged.store.close();
  }, 240_000);

  it("a range closes its file when it stops before the file's end", async () => {
    const plan = planRanges(SAMPLE, 256 << 10)!;
    const fds = fs.readdirSync("/proc/self/fd").length;
    for (const range of plan.slice(0, -1)) await readRange({ kind: "range", source: { file: SAMPLE, name: "s" }, range, maxRecordBytes: 8 << 20, opts: { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS }, skip: [] });
    // before, one descriptor stayed open per range until garbage collection (39 here)
    expect(plan.length).toBeGreaterThan(30);
    expect(fs.readdirSync("/proc/self/fd").length - fds).toBeLessThan(5);
  }, 120_000);

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
    expect((planRanges(file, rangeBytes)?.length ?? 0)).toBeGreaterThanOrEqual(2);
    const ex = new Extractor(OPTS, 1);
    try {
      const alone = await ex.readRange({ source: { file, name: "nested.warc.gz" }, range: { start: rangeBytes, end: 2 * rangeBytes }, maxRecordBytes: 8 << 20 });
      expect(alone.began).toBe(innerAt); // read alone, the range takes the stored member for a record
      expect(alone.pages.map((p) => p.page.url)).toContain("http://inner.example/hidden");
    } finally {
      await ex.close();
    }
    const one = await crawl(file, 0);
    const ranged = await crawl(file, 2, rangeBytes);
    expect(ranged.ranges).toBeGreaterThan((planRanges(file, rangeBytes)?.length ?? 0)); // the second range was read again
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
    expect((planRanges(file, rangeBytes)?.length ?? 0)).toBeGreaterThan(3);
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

  it("the candidate pool's gate samples the first pages of a file in ranges, and first-passes the seeds, on the workers: the same texts, hence the same model, as on the main thread", async () => {
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
    // the seeds' first-pass texts are made on the workers too
    let cheap = 0;
    const text = ex.cheapText.bind(ex);
    ex.cheapText = (...a) => {
      cheap++;
      return text(...a);
    };
    try {
      const onWorkers = await gate(ex);
      const onMain = await gate();
      expect(ranges).toBeGreaterThan(1);
      expect(cheap).toBeGreaterThan(500); // the seeds with `html` (PlanetMath)
      expect(onWorkers.sample).toBe(300);
      expect(onWorkers.sha256).toBe(onMain.sha256);
      expect(onWorkers.bar).toBe(onMain.bar);
    } finally {
      await ex.close();
    }
  }, 240_000);

  it("damaged files of one member per record (flipped bits, cuts, junk, bad lengths, bare LF) give in ranges the pages, counts and issues of one pass", async () => {
    const cc = fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz");
    const original = fs.readFileSync(cc);
    const spans = members(cc);
    let x = 20261203;
    const rand = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    // [name, bytes, range size]: 12,000 bytes, or one that ends a range just after a damaged member's start
    const mutants: Array<[string, Buffer, number?]> = [["intact", original]];
    for (let n = 0; n < 6; n++) {
      const flipped = Buffer.from(original);
      for (let k = 0; k < 4; k++) {
        const at = rand(flipped.length);
        flipped[at] = flipped[at]! ^ (1 << rand(8));
      }
      mutants.push([`flips ${n}`, flipped]);
      mutants.push([`cut ${n}`, original.subarray(0, 20_000 + rand(original.length - 20_000))]);
      const at = spans[1 + rand(spans.length - 1)]!.offset;
      mutants.push([`junk ${n}`, Buffer.concat([original.subarray(0, at), Buffer.from("<html>junk line\r\n".repeat(1 + rand(300))), original.subarray(at)])]);
      const m = spans[1 + rand(Math.floor(spans.length / 3))]!;
      const rec = zlib.gunzipSync(original.subarray(m.offset, m.offset + m.length)).toString("latin1");
      const bad = rec.replace(/Content-Length: (\d+)/, (_s, v: string) => `Content-Length: ${Number(v) + [1, -1, 1000, -1000][n % 4]!}`);
      const lengthMutant = Buffer.concat([original.subarray(0, m.offset), zlib.gzipSync(Buffer.from(bad, "latin1")), original.subarray(m.offset + m.length)]);
      mutants.push([`length ${n}`, lengthMutant], [`length ${n}, a range ending inside its record`, lengthMutant, m.offset + 1]);
    }
    mutants.push(["bare LF", Buffer.concat(spans.map((s) => zlib.gzipSync(Buffer.from(s.data.toString("latin1").replace(/^([\s\S]*?\r\n\r\n)/, (h) => h.replace(/\r\n/g, "\n")), "latin1"))))]);
    const dir = tmpDir("mc-ranges-mutants-");
    const opts = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS };
    // the ranges read in this thread (readRange is what a worker runs), through the main thread's checks
    const inline = { threads: 1, readRange: (t: Omit<RangeTask, "kind" | "opts" | "skip">) => readRange({ ...t, kind: "range", opts, skip: [] }) } as unknown as Extractor;
    const view = (i: WarcIssue) => `${i.reason}@${i.offset}`;
    let split = 0;
    const seen = { pages: 0, issues: 0 };
    for (const [name, bytes, size] of mutants) {
      const file = path.join(dir, "mutant.warc.gz");
      fs.writeFileSync(file, bytes);
      const oneStats = new WarcStats();
      const oneIssues: string[] = [];
      const onePages: RangePage[] = [];
      for await (const p of readPages(localSource(file, "m"), { maxRecordBytes: 8 << 20, logger: nullLogger, onIssue: (i) => oneIssues.push(view(i)) }, oneStats)) {
        const { body, httpHeaders: _h, ...page } = p;
        onePages.push({ page, out: extractPage({ body, contentType: p.contentType }, opts) });
      }
      const rangeBytes = size ?? 12_000;
      if ((planRanges(file, rangeBytes)?.length ?? 0) > 1) split++;
      const logged: string[] = [];
      const logger: Logger = { log: (_l, event) => logged.push(event), close: async () => {}, abandon() {} };
      const feed = new RangeFeed(inline, [localSource(file, "m")], { maxRecordBytes: 8 << 20, rangeBytes, logger });
      if (!(await feed.readable(0))) continue; // a damaged first member: the file is read in one pass on the main thread
      const stats = new WarcStats();
      const issues: string[] = [];
      const pages: RangePage[] = [];
      for await (const p of feed.pages(0, stats, (i) => issues.push(view(i)))) pages.push(p);
      expect(pages, name).toEqual(onePages);
      expect(stats.dropped.toJSON(), name).toEqual(oneStats.dropped.toJSON());
      expect([stats.records, stats.pages, stats.filesFailed, stats.bytesIn], name).toEqual([oneStats.records, oneStats.pages, oneStats.filesFailed, oneStats.bytesIn]);
      expect(issues, name).toEqual(oneIssues);
      // issues reach the caller once, by onIssue (which logs them), not again among the workers' log lines
      expect(logged.filter((e) => e === "warc_issue"), name).toEqual([]);
      seen.issues += issues.length;
      seen.pages += pages.length;
    }
    expect(seen.pages).toBeGreaterThan(10 * mutants.length);
    expect(seen.issues).toBeGreaterThan(mutants.length / 2); // the damage was there to be found
    // most mutants were read in several ranges
    expect(split).toBeGreaterThan(mutants.length / 2);
  }, 120_000);

  it("a large file that cannot be cut (a whole-file gzip, a plain WARC) is read on the main thread, as before, with the same result", async () => {
    const records = members(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz")).map((m) => m.data);
    const dir = tmpDir("mc-ranges-whole-");
    for (const [name, bytes] of [
      ["whole.warc.gz", zlib.gzipSync(Buffer.concat(records))],
      ["plain.warc", Buffer.concat(records)],
    ] as const) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, bytes);
      expect(planRanges(file, 16 << 10), name).toBeNull();
      const one = await crawl(file, 0);
      const r = await crawl(file, 1, 16 << 10);
      expect(r.ranges, name).toBe(0);
      expect(r.ing.pages, name).toBeGreaterThan(10);
      expect(counts(r.ing), name).toEqual(counts(one.ing));
      expect(dump(r.store), name).toEqual(dump(one.store));
      one.store.close();
      r.store.close();
    }
  }, 120_000);

  it("a file on an HTTP server is read in ranges on the workers with Range requests: one pass's rows, through resets and 503s; a file that changes between ranges fails loudly", async () => {
    const bytes = fs.readFileSync(SAMPLE);
    const files = new Map([
      ["/c.warc.gz", bytes],
      ["/f.warc.gz", bytes],
      ["/e.warc.gz", bytes],
    ]);
    const faults = new Map<string, Faults>([
      ["/f.warc.gz", { statuses: [503, 503], resetAfter: [100_000, 200_000, 150_000] }],
      ["/e.warc.gz", { changeEtag: true }],
    ]);
    const server = await startFaultServer(files, faults);
    const http = { ...DEFAULT_HTTP, backoffMs: 5, maxBackoffMs: 20, stallMs: 5_000 };
    const rangeBytes = 1 << 20;
    try {
      const lines: Array<{ event: string; fields?: Record<string, unknown> }> = [];
      const logger: Logger = { log: (_l, event, fields) => lines.push({ event, ...(fields ? { fields } : {}) }), close: async () => {}, abandon() {} };
      for (const name of ["/c.warc.gz", "/f.warc.gz"]) {
        const url = `${server.url}${name}`;
        // the same bytes read locally in one pass, under the URL's name
        const one = await crawl(localSource(SAMPLE, url), 0);
        const r = await crawl(httpSource(url, http), 2, rangeBytes, undefined, logger);
        expect(r.ranges, name).toBeGreaterThanOrEqual(Math.ceil(bytes.length / rangeBytes));
        expect(counts(r.ing), name).toEqual(counts(one.ing));
        expect(r.ing.warc.bytesIn, name).toBe(bytes.length);
        expect(dump(r.store), name).toEqual(dump(one.store));
        one.store.close();
        r.store.close();
        // one request for the head, then one Range request from each range's start (and retries)
        const asked = server.requests.filter((q) => q.path === name && q.status === 206).map((q) => q.range);
        expect(asked[0], name).toBe(`bytes=0-${(1 << 20) - 1}`);
        for (let k = 1; k < Math.ceil(bytes.length / rangeBytes); k++) expect(asked, name).toContain(`bytes=${k * rangeBytes}-`);
      }
      // the workers' retries are logged by the main thread
      const retries = lines.filter((l) => l.event === "http_retry" && String(l.fields?.url).endsWith("/f.warc.gz"));
      expect(retries.length).toBeGreaterThanOrEqual(3);
      const e = await crawl(httpSource(`${server.url}/e.warc.gz`, http), 2, rangeBytes);
      expect(e.ing.failed).toEqual([`${server.url}/e.warc.gz`]);
      expect(e.ing.warc.dropped.get("source_failed")).toBeGreaterThan(0);
      expect(e.ing.warc.issues.some((i) => /changed during the transfer/.test(i.message))).toBe(true);
      expect(e.store.db.prepare("SELECT count(*) FROM documents").pluck().get()).toBe(0);
      e.store.close();
    } finally {
      await server.close();
    }
  }, 240_000);
});
