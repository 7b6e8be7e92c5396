import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, SourceError } from "../../src/core/errors.js";
import { nullLogger } from "../../src/core/log.js";
import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { LangId } from "../../src/extract/lang.js";
import { Extractor } from "../../src/extract/pool.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { ingest, rereadLikeCrawl } from "../../src/rounds/ingest.js";
import { OutsideReader } from "../../src/rounds/outside.js";
import { type DocRow, WorkStore } from "../../src/store/store.js";
import { RunStores } from "../../src/store/stores.js";
import { DEFAULT_HTTP, type HttpOptions } from "../../src/warc/http.js";
import { type RecordPlace, type RereadOptions, rereadPage } from "../../src/warc/reread.js";
import { localSource } from "../../src/warc/source.js";
import { type FaultServer, startFaultServer } from "../../scripts/chaos/faultserver.js";
import { ROOT, comparable, readAll, tmpDir } from "../helpers.js";

const SAMPLE = path.join(ROOT, "data", "crawl-sample.warc.gz");
const OPTS = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS, features: true };
const dispatcher = new Agent({ keepAliveTimeout: 10, connections: 4 });
const http: HttpOptions = { ...DEFAULT_HTTP, backoffMs: 5, maxBackoffMs: 20, stallMs: 5_000, dispatcher };
const reread = (r: RecordPlace) => rereadPage(r, { http, maxRecordBytes: 8 << 20, logger: nullLogger, cwd: ROOT });
/** Read again and extracted: on a worker (HTTP options a worker can take), or read here (`dispatcher`) and extracted on a worker. */
const again = (r: RecordPlace, id: number, o: { dispatcher?: boolean } = {}) =>
  rereadLikeCrawl(r, ex, lang, { ...OPTS, langs: [], window: ex.window }, { http: o.dispatcher ? http : { ...http, dispatcher: undefined }, maxRecordBytes: 8 << 20, logger: nullLogger, cwd: ROOT }, id);

let ex: Extractor;
let lang: LangId;
beforeAll(() => {
  ex = new Extractor(OPTS, 1);
  lang = new LangId();
});
afterAll(async () => {
  await Promise.all([ex.close(), lang.close(), dispatcher.close()]);
});

/** The stored rows as the crawl wrote them, in the form `docRow` builds (features as bytes). */
function storedRows(store: WorkStore): Array<DocRow & { id: number }> {
  const rows = store.db
    .prepare(
      `SELECT d.id, doc_key AS docKey, record_id AS recordId, url, url_norm AS urlNorm, host, domain, path, warc_file AS warcFile, warc_offset AS warcOffset,
              warc_length AS warcLength, offset_kind AS offsetKind, fetch_date AS fetchDate, lang, lang_conf AS langConf, title, text, content_hash AS contentHash, f.hashes
       FROM documents d LEFT JOIN features f ON f.doc_id = d.id ORDER BY d.id`,
    )
    .all() as Array<DocRow & { id: number; hashes: Buffer | null }>;
  return rows.map(({ hashes, ...r }) => ({ ...r, recordId: r.recordId ?? "", features: hashes ? new Uint32Array(new Uint8Array(hashes).buffer) : undefined }) as DocRow & { id: number });
}

/** A row as extraction gives it, in the stored form. */
function asStored(row: DocRow, id: number): DocRow & { id: number } {
  const { features, ...rest } = row;
  return { ...rest, id, recordId: row.recordId ?? "", features: features ? new Uint32Array(features) : undefined } as DocRow & { id: number };
}

describe("a stored page read again by its offset", () => {
  it("extracts exactly as the crawl extracted it: every page of the bundled crawl, by a local read and by one HTTP Range request each", async () => {
    const dir = tmpDir("mc-reread-");
    const store = new WorkStore(path.join(dir, "work.sqlite"));
    const ing = await ingest([localSource(SAMPLE, "data/crawl-sample.warc.gz")], store, ex, lang, { maxRecordBytes: 8 << 20, pipeline: { ...OPTS, langs: [], window: ex.window }, logger: nullLogger, fileNo: () => 0 });
    expect(ing.kept).toBeGreaterThan(600);
    const stored = storedRows(store);
    expect(stored).toHaveLength(ing.kept);
    expect(stored.every((r) => r.offsetKind === "member")).toBe(true);
    // locally: a read at the offset on a worker, the same extraction
    for (const r of stored) {
      const got = await again({ warcFile: r.warcFile, offset: r.warcOffset, length: r.warcLength, offsetKind: r.offsetKind as RecordPlace["offsetKind"], url: r.url }, r.id);
      expect("row" in got, r.url).toBe(true);
      expect(asStored((got as { row: DocRow }).row, r.id)).toEqual(r);
    }
    // over HTTP: one bounded Range request per page, answered 206; read on a worker (undici's
    // global dispatcher), or on the main thread for options with a dispatcher of their own
    const server: FaultServer = await startFaultServer(new Map([["/crawl.warc.gz", fs.readFileSync(SAMPLE)]]));
    try {
      const url = `${server.url}/crawl.warc.gz`;
      const some = stored.filter((_, i) => i % 5 === 0);
      for (const r of some) {
        for (const dispatcher of [false, true]) {
          const got = (await again({ warcFile: url, offset: r.warcOffset, length: r.warcLength, offsetKind: "member" }, r.id, { dispatcher })) as { row: DocRow };
          // the same document but for the file's name, which is the URL here
          expect(asStored(got.row, r.id)).toEqual({ ...r, warcFile: url, docKey: `${url}@${r.warcOffset}` });
        }
      }
      expect(server.requests).toHaveLength(2 * some.length);
      expect(server.requests.map((q) => [q.range, q.status])).toEqual(some.flatMap((r) => [0, 1].map(() => [`bytes=${r.warcOffset}-${r.warcOffset + r.warcLength - 1}`, 206])));
    } finally {
      await server.close();
    }
    store.close();
  }, 120_000);

  it("reads plain WARC records by their range, whole-file gzip records from the file's start, and a server that ignores Range", async () => {
    const dir = tmpDir("mc-reread-kinds-");
    const plain = path.join(dir, "plain.warc");
    fs.writeFileSync(plain, zlib.gunzipSync(fs.readFileSync(SAMPLE)));
    const whole = path.join(dir, "whole.warc.gz");
    fs.writeFileSync(whole, zlib.gzipSync(fs.readFileSync(plain)));
    for (const [file, kind] of [[plain, "plain"], [whole, "decompressed"]] as const) {
      const { pages } = await readAll(file);
      expect(pages.length).toBeGreaterThan(600);
      expect(pages.every((p) => p.offsetKind === kind)).toBe(true);
      for (const p of pages.filter((_, i) => i % 97 === 5)) {
        const again = await reread({ warcFile: p.warcFile, offset: p.offset, length: p.length, offsetKind: p.offsetKind });
        expect(comparable(again)).toEqual(comparable(p));
        expect(again.warcFile).toBe(p.warcFile);
      }
    }
    // a connection reset inside the range: the rest of the range is asked for, from the next byte
    const flaky = await startFaultServer(new Map([["/f.warc.gz", fs.readFileSync(SAMPLE)]]), new Map([["/f.warc.gz", { resetAfter: [100] }]]));
    try {
      const { pages } = await readAll(SAMPLE);
      const p = pages[200]!;
      const again = await reread({ warcFile: `${flaky.url}/f.warc.gz`, offset: p.offset, length: p.length, offsetKind: p.offsetKind, url: p.url });
      expect(comparable(again)).toEqual(comparable(p));
      const last = p.offset + p.length - 1;
      expect(flaky.requests.map((q) => [q.range, q.status])).toEqual([
        [`bytes=${p.offset}-${last}`, 206],
        [`bytes=${p.offset + 100}-${last}`, 206],
      ]);
    } finally {
      await flaky.close();
    }
    // a server that answers a Range request with the whole file: the range is cut out of it, one request
    const server = await startFaultServer(new Map([["/c.warc.gz", fs.readFileSync(SAMPLE)]]), new Map([["/c.warc.gz", { ignoreRange: true }]]));
    try {
      const { pages } = await readAll(SAMPLE);
      const p = pages[300]!;
      const again = await reread({ warcFile: `${server.url}/c.warc.gz`, offset: p.offset, length: p.length, offsetKind: p.offsetKind });
      expect(comparable(again)).toEqual(comparable(p));
      expect(server.requests.map((q) => q.status)).toEqual([200]);
    } finally {
      await server.close();
    }
  });

  it("a place that holds no page, or a file shorter than the record, is an error naming the file and offset", async () => {
    const { pages } = await readAll(SAMPLE);
    const p = pages[10]!;
    const at = { warcFile: SAMPLE, offset: p.offset, length: p.length, offsetKind: p.offsetKind };
    // a few bytes off: no gzip member starts there
    await expect(reread({ ...at, offset: p.offset + 3 })).rejects.toThrow(InputError);
    await expect(reread({ ...at, offset: p.offset + 3 })).rejects.toThrow(new RegExp(`crawl-sample\\.warc\\.gz at offset ${p.offset + 3} \\(${p.length} bytes, member\\): no HTML page there`));
    // a request record (not a response): the member before the page's
    const before = pages[9]!;
    await expect(reread({ ...at, offset: before.offset + before.length, length: p.offset - before.offset - before.length })).rejects.toThrow(/no HTML page there/);
    // another page's record where this one was (the file was rewritten): the stored URL tells
    const other = pages[11]!;
    await expect(reread({ ...at, offset: other.offset, length: other.length, url: p.url })).rejects.toThrow(new RegExp(`the page there is .*, not ${p.url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: was the file changed`));
    expect((await reread({ ...at, url: p.url })).url).toBe(p.url);
    // the file was cut: it ends inside the record
    const short = path.join(tmpDir("mc-reread-short-"), "short.warc.gz");
    fs.writeFileSync(short, fs.readFileSync(SAMPLE).subarray(0, p.offset + 100));
    await expect(reread({ ...at, warcFile: short })).rejects.toThrow(SourceError);
    await expect(reread({ ...at, warcFile: short })).rejects.toThrow(/shorter than it was when read/);
    const server = await startFaultServer(new Map([["/s.warc.gz", fs.readFileSync(short)]]));
    try {
      await expect(reread({ ...at, warcFile: `${server.url}/s.warc.gz` })).rejects.toThrow(/shorter than it was when read/);
      // read again on a worker, each of these is the page's failure, with the same message, and nothing extracted
      const failures: Array<[RecordPlace, RegExp]> = [
        [{ ...at, offset: p.offset + 3 }, new RegExp(`at offset ${p.offset + 3} \\(${p.length} bytes, member\\): no HTML page there`)],
        [{ ...at, offset: other.offset, length: other.length, url: p.url }, /the page there is .*was the file changed/],
        [{ ...at, warcFile: short }, /shorter than it was when read/],
        [{ ...at, warcFile: `${server.url}/s.warc.gz` }, /shorter than it was when read/],
      ];
      for (const [place, want] of failures) expect(await again(place, 1)).toEqual({ failed: expect.stringMatching(want) });
    } finally {
      await server.close();
    }
  });
});

type Stored = { id: number; extracted: number; content_hash: string; text: string | null };

describe("pages outside the pool read again (OutsideReader)", () => {
  it("writes every page read before one fails, in batches, passes new hashes to exact copies, and then throws that failure", async () => {
    const { pages } = await readAll(SAMPLE);
    const some = pages.slice(0, 80);
    const store = new WorkStore(path.join(tmpDir("mc-outside-"), "work.sqlite"));
    store.beginFile();
    // small rows, as the gate stores pages outside the pool; the last one an exact copy of the first (same cheap text), not sampled
    const rows = [...some.map((p, i) => ({ p, id: i + 1, hash: `cheap${i}` })), { p: pages[100]!, id: some.length + 1, hash: "cheap0" }];
    for (const { p, id, hash } of rows) {
      store.addDoc({ id, docKey: `${p.warcFile}@${p.offset}`, url: p.url, urlNorm: p.url, host: p.host, domain: p.domain, path: "/", warcFile: SAMPLE, warcOffset: p.offset, warcLength: p.length, offsetKind: p.offsetKind, fetchDate: p.date, lang: "", langConf: 0, title: "", text: "", contentHash: hash, extracted: false });
    }
    store.commitFile(SAMPLE, { pages: rows.length, kept: rows.length, urlDups: 0, stats: {} });
    const stores = RunStores.from(store, path.dirname(store.file), undefined);
    // the worker fails on page 70 (an error a read does not give: a bug, a worker gone), after the first batch of 64 is written
    const failing = some[69]!.offset;
    const broken = new Error("the worker went away");
    let calls = 0;
    const extractor = {
      threads: 1,
      extractAt: async (place: RecordPlace, reread: RereadOptions) => {
        calls++;
        if (place.offset === failing) throw broken;
        return ex.extractAt(place, reread);
      },
    } as unknown as Extractor;
    const warnings: string[] = [];
    const reader = new OutsideReader(extractor, lang, { ...OPTS, langs: [], window: 16 }, { http: DEFAULT_HTTP, maxRecordBytes: 8 << 20, logger: nullLogger, cwd: ROOT }, nullLogger, (m) => warnings.push(m));
    const ids = some.map((_, i) => i + 1);
    await expect(reader.pages(stores, ids)).rejects.toBe(broken);
    expect(calls).toBe(some.length);
    const after = store.db.prepare("SELECT id, extracted, content_hash, text FROM documents ORDER BY id").all() as Stored[];
    // every page but the failing one was written: extracted, or dropped by the extraction as the crawl would drop it
    const byId = new Map(after.map((r) => [r.id, r]));
    expect(byId.get(70)!.extracted).toBe(0);
    const others = ids.filter((id) => id !== 70).map((id) => byId.get(id)!);
    expect(others.every((r) => r.extracted === 1 || r.extracted === -1)).toBe(true);
    const extracted = others.filter((r) => r.extracted === 1);
    expect(extracted.length).toBeGreaterThan(60);
    for (const r of extracted) expect([r.id, r.text!.length > 0, /^[0-9a-f]{40}$/.test(r.content_hash)]).toEqual([r.id, true, true]);
    // the copy of page 1, still a small row, took page 1's new hash
    const first = byId.get(1)!;
    expect(first.extracted).toBe(1);
    expect(byId.get(rows.length)).toEqual({ id: rows.length, extracted: 0, content_hash: first.content_hash, text: "" });
    expect(warnings).toEqual([]);
    // a rerun reads only what is left
    calls = 0;
    const again = new OutsideReader(ex, lang, { ...OPTS, langs: [], window: 16 }, { http: DEFAULT_HTTP, maxRecordBytes: 8 << 20, logger: nullLogger, cwd: ROOT }, nullLogger, (m) => warnings.push(m));
    const stats = await again.pages(stores, ids);
    expect(stats.extracted + Object.values(stats.dropped).reduce((a, b) => a + b, 0) + stats.failed).toBe(1);
    expect((store.db.prepare("SELECT extracted FROM documents WHERE id = 70").pluck().get() as number) !== 0).toBe(true);
    stores.close();
  }, 120_000);
});
