import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nullLogger } from "../../src/core/log.js";
import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { LangId } from "../../src/extract/lang.js";
import { Extractor } from "../../src/extract/pool.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { ingest } from "../../src/rounds/ingest.js";
import { OUTSIDE_TEXT, pageOf } from "../../src/report/data.js";
import { WorkStore } from "../../src/store/store.js";
import { RunStores } from "../../src/store/stores.js";
import { localSource } from "../../src/warc/source.js";
import { type FaultServer, startFaultServer } from "../../scripts/chaos/faultserver.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";
import { RUN_FLAGS, expectSame, snapshot, splitCrawl } from "../plan/crawls.js";

const SAMPLE = path.join(ROOT, "data", "crawl-sample.warc.gz");
const OPTS = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS, features: true };

type Row = { id: number; url: string; title: string; text: string; lang: string; lang_conf: number; content_hash: string; warc_offset: number; warc_length: number; extracted: number; first_pass: number | null; signals: number | null; hashes: Buffer | null };
const ROWS = `SELECT d.id, d.url, d.title, d.text, d.lang, d.lang_conf, d.content_hash, d.warc_offset, d.warc_length, d.extracted, d.first_pass, d.signals, f.hashes
  FROM documents d LEFT JOIN features f ON f.doc_id = d.id`;

/** Every page of the bundled crawl extracted in full (no gate), by URL: the reference a promoted page must equal. */
let full: Map<string, Row>;
beforeAll(async () => {
  const ex = new Extractor(OPTS, 1);
  const lang = new LangId();
  try {
    const store = new WorkStore(path.join(tmpDir("mc-full-"), "work.sqlite"));
    await ingest([localSource(SAMPLE)], store, ex, lang, { maxRecordBytes: 8 << 20, pipeline: { ...OPTS, langs: [], window: ex.window }, logger: nullLogger, fileNo: () => 0 });
    full = new Map((store.db.prepare(ROWS).all() as Row[]).map((r) => [r.url, r]));
    store.close();
  } finally {
    await Promise.all([ex.close(), lang.close()]);
  }
}, 120_000);

/**
 * Round 1 with the pool; a host with pages outside the pool accepted by hand; round 2 promotes
 * them (decisions apply at the end of the next round); round 3 reads them again and extracts them.
 */
async function poolRun(dir: string, source: string): Promise<{ db: Database.Database; host: string; stderr: string[]; bar: number }> {
  const common = ["--run", dir, "--candidate-pool", "--neg-count", "60", "--json"];
  const r1 = await runCli(["round", ...common, "--sources", source]);
  expect([r1.code, r1.stderr]).toEqual([0, expect.stringContaining("outside the candidate pool: small rows, not extracted")]);
  let db = new Database(path.join(dir, "work.sqlite"), { readonly: true });
  const host = db.prepare("SELECT host FROM documents WHERE extracted = 0 AND host <> 'planetmath.org' GROUP BY host HAVING count(*) >= 3 ORDER BY count(*) DESC, host LIMIT 1").pluck().get() as string;
  db.close();
  expect(host).toBeTruthy();
  const acc = await runCli(["domains", "--run", dir, "--accept", `${host}/`]);
  expect(acc.code).toBe(0);
  const r2 = await runCli(["round", ...common]);
  expect(r2.code).toBe(0);
  const r3 = await runCli(["round", ...common]);
  expect(r3.code).toBe(0);
  db = new Database(path.join(dir, "work.sqlite"), { readonly: true });
  const bar = (JSON.parse(db.prepare("SELECT value FROM meta WHERE key = 'first_pass'").pluck().get() as string) as { bar: number }).bar;
  return { db, host, stderr: [r1.stderr, r2.stderr, r3.stderr], bar };
}

/** The promoted pages of `host`: each extracted again exactly as the full pass extracted it, or dropped by it as the full pass dropped it. */
function checkPromoted(db: Database.Database, host: string, bar: number): Row[] {
  const promoted = db.prepare(`${ROWS} JOIN promoted p ON p.doc_id = d.id WHERE d.host = ? ORDER BY d.id`).all(host) as Row[];
  expect(promoted.length).toBeGreaterThanOrEqual(2);
  // they were outside the pool: the gate's marks say so
  for (const r of promoted) expect([r.url, (r.first_pass ?? 1) < bar && r.signals === 0]).toEqual([r.url, true]);
  for (const r of promoted) {
    const want = full.get(r.url);
    if (!want) {
      expect([r.url, r.extracted]).toEqual([r.url, -1]); // the full pass drops it too
      continue;
    }
    expect([r.url, r.extracted]).toEqual([r.url, 1]);
    const pick = (x: Row) => ({ url: x.url, title: x.title, text: x.text, lang: x.lang, lang_conf: x.lang_conf, content_hash: x.content_hash, offset: x.warc_offset, length: x.warc_length, hashes: x.hashes?.toString("base64") });
    expect(pick(r)).toEqual(pick(want));
  }
  return promoted;
}

describe("a run with a candidate pool (--candidate-pool)", () => {
  let server: FaultServer;
  beforeAll(async () => {
    server = await startFaultServer(new Map([["/crawl.warc.gz", fs.readFileSync(SAMPLE)]]));
  });
  afterAll(async () => {
    await server.close();
  });

  it("stores pages outside the pool as small rows, scores only the pool, and extracts promoted outside pages from the local file exactly as a full pass", async () => {
    const dir = tmpDir("mc-pool-");
    const { db, host, stderr, bar } = await poolRun(dir, SAMPLE);
    const info = JSON.parse(db.prepare("SELECT value FROM meta WHERE key = 'first_pass'").pluck().get() as string) as Record<string, number>;
    expect(info.held_recall).toBeGreaterThanOrEqual(0.995);
    expect(info.sample).toBe(679);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'crawl_mode'").pluck().get()).toBe("pool");
    const rows = db.prepare(ROWS).all() as Row[];
    const outside = rows.filter((r) => r.extracted === 0);
    // most of the crawl stays outside: small rows with no text, language or features
    expect(outside.length).toBeGreaterThan(rows.length / 2);
    for (const r of outside) expect([r.url, r.text, r.title, r.lang, r.hashes, (r.first_pass ?? 1) < bar, r.signals]).toEqual([r.url, "", "", "", null, true, 0]);
    // every page of the pool was extracted, and every math page of the crawl is in it
    for (const r of rows.filter((x) => (x.first_pass ?? 0) >= bar || x.signals !== 0)) expect([r.url, r.extracted]).toEqual([r.url, 1]);
    expect(rows.filter((r) => r.url.includes("planetmath.org")).every((r) => r.extracted === 1)).toBe(true);
    // the negative sample was drawn over every page: the sampled pages outside the pool were extracted
    const sampledOutside = rows.filter((r) => r.extracted !== 0 && (r.first_pass ?? 1) < bar && r.signals === 0).length;
    expect(sampledOutside).toBeGreaterThanOrEqual(30);
    // the rounds score extracted pages only, and host counts take every page
    for (const round of [1, 2, 3]) {
      const unscored = db.prepare("SELECT count(*) FROM documents d LEFT JOIN scores s ON s.doc_id = d.id AND s.round = ? WHERE d.extracted = 1 AND s.doc_id IS NULL").pluck().get(round);
      const scoredOutside = db.prepare("SELECT count(*) FROM documents d JOIN scores s ON s.doc_id = d.id AND s.round = ? WHERE d.extracted <> 1").pluck().get(round);
      expect([round, scoredOutside]).toEqual([round, 0]);
      if (round === 3) expect(unscored).toBe(0);
    }
    const hostPages = db.prepare("SELECT pages FROM domain_stats WHERE round = 1 AND host = ?").pluck().get(host);
    expect(hostPages).toBe(db.prepare("SELECT count(*) FROM documents WHERE host = ?").pluck().get(host));
    const promoted = checkPromoted(db, host, bar);
    const extracted = promoted.filter((r) => r.extracted === 1).length;
    expect(extracted).toBeGreaterThanOrEqual(2);
    expect(stderr[2]).toContain(`round 3: ${extracted} promoted page${extracted === 1 ? "" : "s"} outside the candidate pool read again and extracted`);
    // the review and report show a page outside the pool as such, not as an empty text
    const stores = RunStores.open(dir);
    expect(pageOf(stores, outside[0]!.id)?.text).toBe(OUTSIDE_TEXT);
    expect(pageOf(stores, promoted.find((r) => r.extracted === 1)!.id)?.text.length).toBeGreaterThan(100);
    stores.close();
    // and round 3 trained on them
    const r3 = JSON.parse(db.prepare("SELECT summary FROM rounds WHERE round = 3").pluck().get() as string) as { positives: { promoted: number } };
    expect(r3.positives.promoted).toBe(extracted);
    db.close();
  }, 240_000);

  it("reads promoted outside pages of an HTTP source again with one Range request each", async () => {
    const dir = tmpDir("mc-pool-http-");
    const { db, host, bar } = await poolRun(dir, `${server.url}/crawl.warc.gz`);
    const promoted = checkPromoted(db, host, bar);
    db.close();
    const ranges = server.requests.filter((r) => r.range !== undefined).map((r) => [r.range, r.status]);
    for (const p of promoted) expect(ranges).toContainEqual([`bytes=${p.warc_offset}-${p.warc_offset + p.warc_length - 1}`, 206]);
  }, 240_000);

  it("resumes a run whose store was written before the pool's columns: every page extracted, as it was", async () => {
    const dir = tmpDir("mc-pool-old-");
    const r1 = await runCli(["round", "--run", dir, "--neg-count", "60"]);
    expect(r1.code).toBe(0);
    // the store as the version before wrote it: no extracted / first_pass / signals, no crawl mode
    const raw = new Database(path.join(dir, "work.sqlite"));
    for (const c of ["extracted", "first_pass", "signals"]) raw.exec(`ALTER TABLE documents DROP COLUMN ${c}`);
    raw.exec("DELETE FROM meta WHERE key = 'crawl_mode'");
    const docs = raw.prepare("SELECT count(*) FROM documents").pluck().get() as number;
    raw.close();
    const refused = await runCli(["round", "--run", dir, "--candidate-pool"]);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining("this run's crawl began extracting every page")]);
    const r2 = await runCli(["round", "--run", dir, "--json"]);
    expect([r2.code, r2.stderr]).toEqual([0, expect.stringContaining("round 2:")]);
    const db = new Database(path.join(dir, "work.sqlite"), { readonly: true });
    expect(db.prepare("SELECT extracted, count(*) AS n FROM documents GROUP BY extracted").all()).toEqual([{ extracted: 1, n: docs }]);
    expect(db.prepare("SELECT count(*) FROM scores WHERE round = 2").pluck().get()).toBe(docs);
    db.close();
  }, 120_000);

  it("gives a run split into 3 tasks exactly the pool and decisions of one process: the coordinator trains the gate, the tasks store the small rows", async () => {
    const dir = tmpDir("mc-pool-tasks-");
    const files = await splitCrawl(path.join(dir, "crawl"), 3);
    const flags = [...RUN_FLAGS, "--candidate-pool", "--neg-count", "60"];
    const one = await runCli(["run", "--run", path.join(dir, "one"), "--sources", files.join(","), ...flags]);
    expect([one.code, one.stderr]).toEqual([0, expect.stringContaining("outside the candidate pool")]);
    const three = await runCli(["run", "--run", path.join(dir, "three"), "--sources", files.join(","), "--tasks", "3", "--workers", "2", ...flags]);
    expect([three.code, three.stderr]).toEqual([0, expect.stringContaining("round 1: first-pass bar")]);
    // the crawl's counts, summed from the tasks' markers, are one process's
    const crawlOf = (out: string) => (JSON.parse(out) as { crawl: { documents: number; outside_pool?: number } }).crawl;
    expect({ documents: crawlOf(three.stdout).documents, outside: crawlOf(three.stdout).outside_pool }).toEqual({ documents: crawlOf(one.stdout).documents, outside: crawlOf(one.stdout).outside_pool });
    expect(crawlOf(one.stdout).outside_pool).toBeGreaterThan(0);
    // one process times its gate, and the main thread's share of it, inside the crawl's
    const timing = (JSON.parse(one.stdout) as { crawl: { seconds: number; main_thread_seconds: number; first_pass_seconds: number; first_pass_main_thread_seconds: number } }).crawl;
    expect(timing.first_pass_seconds).toBeGreaterThan(0);
    expect(timing.first_pass_seconds).toBeLessThanOrEqual(timing.seconds);
    expect(timing.first_pass_main_thread_seconds).toBeGreaterThan(0);
    expect(timing.first_pass_main_thread_seconds).toBeLessThanOrEqual(Math.min(timing.first_pass_seconds, timing.main_thread_seconds));
    expectSame(snapshot(path.join(dir, "three")), snapshot(path.join(dir, "one")));
    // the pool's marks, over the run's own store and every task's
    const marks = (run: string) =>
      [path.join(run, "work.sqlite"), ...fs.readdirSync(path.join(run, "tasks")).map((t) => path.join(run, "tasks", t, "work.sqlite"))]
        .filter((f) => fs.existsSync(f))
        .flatMap((f) => {
          const db = new Database(f, { readonly: true });
          try {
            return db.prepare("SELECT id, extracted, first_pass, signals FROM documents").raw().all() as unknown[][];
          } finally {
            db.close();
          }
        })
        .map((r) => JSON.stringify(r))
        .sort();
    const [m1, m3] = [marks(path.join(dir, "one")), marks(path.join(dir, "three"))];
    expect(m3).toEqual(m1);
    expect(m3.filter((r) => JSON.parse(r)[1] === 0).length).toBeGreaterThan(m3.length / 2);
    // each task crawled with the gate the coordinator wrote for it
    expect(fs.existsSync(path.join(dir, "three", "models", "first-pass.json"))).toBe(true);
  }, 300_000);

  it("keeps a run's crawl mode: a crawl begun without the pool does not switch to it", async () => {
    const dir = tmpDir("mc-pool-mode-");
    const store = new WorkStore(path.join(dir, "work.sqlite"));
    store.setMeta("crawl_mode", "full");
    store.close();
    const r = await runCli(["round", "--run", dir, "--candidate-pool"]);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining("this run's crawl began extracting every page; --candidate-pool applies to a new run")]);
  });
});
