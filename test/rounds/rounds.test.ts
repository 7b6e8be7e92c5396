import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { fastTextLine } from "../../src/classify/features.js";
import { FEATURES_VERSION_INTERLEAVED, featureHashes, unpackFeatures } from "../../src/classify/hashes.js";
import { Scorer } from "../../src/classify/scorer.js";
import { readSeeds } from "../../src/classify/seeds.js";
import { isHeldOut } from "../../src/classify/split.js";
import { nullLogger } from "../../src/core/log.js";
import { normalizePrefix, normalizeUrl, urlPrefixes } from "../../src/dedup/url.js";
import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { LangId } from "../../src/extract/lang.js";
import { Extractor } from "../../src/extract/pool.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { Progress, formatDuration } from "../../src/core/progress.js";
import { main } from "../../src/main.js";
import { runSummary } from "../../src/commands/summary.js";
import type { CleanSummary } from "../../src/clean/clean.js";
import type { Manifest } from "../../src/export/verify.js";
import { crawlProgress, ingest } from "../../src/rounds/ingest.js";
import { RunLock } from "../../src/store/lock.js";
import { WorkStore } from "../../src/store/store.js";
import { RunStores } from "../../src/store/stores.js";
import { localSource } from "../../src/warc/source.js";
import { ROOT, fixture, runCli, tmpDir } from "../helpers.js";
import { responseRecord } from "../warc/build.js";

const CLI = path.join(ROOT, "dist", "src", "cli.js");

interface Summary {
  round: number;
  selected: number;
  held_out_recall: number;
  selection_recall: number;
  math_related_hosts: number;
  promoted: number;
  convergence_share: number | null;
  documents: number;
  engine: string;
}

describe("the bundled sample: rounds, domains, promotion, convergence", () => {
  let dir: string;
  let rounds: Summary[];
  let db: Database.Database;

  beforeAll(async () => {
    dir = tmpDir("mc-run-");
    const r = await runCli(["run", "--run", path.join(dir, "run"), "--max-rounds", "2", "--bucket", "20000", "--json"]);
    if (r.code !== 0) throw new Error(r.stderr);
    rounds = (JSON.parse(r.stdout) as { rounds: Summary[] }).rounds;
    db = new Database(path.join(dir, "run", "work.sqlite"), { readonly: true });
  }, 240_000);

  it("round 1 selects PlanetMath pages and planetmath.org comes out math-related", () => {
    const sel = db.prepare("SELECT d.host, count(*) AS n FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = 1 GROUP BY d.host ORDER BY n DESC").all() as Array<{ host: string; n: number }>;
    expect(sel[0]!.host).toBe("planetmath.org");
    expect(sel[0]!.n / rounds[0]!.selected).toBeGreaterThan(0.8);
    const hosts = db.prepare("SELECT host FROM domain_stats WHERE round = 1 AND math_related = 1").all() as Array<{ host: string }>;
    expect(hosts.map((h) => h.host)).toContain("planetmath.org");
  });

  it("promotion adds planetmath.org's unselected pages to the seeds, and round 2 recalls at least as well", () => {
    const all = db.prepare("SELECT d.host, p.prefix, p.round FROM promoted p JOIN documents d ON d.id = p.doc_id").all() as Array<{ host: string; prefix: string; round: number }>;
    // later rounds promote what they leave unselected under the prefix (a page round 1 selected)
    expect(all.every((p) => p.host === "planetmath.org" && p.prefix === "planetmath.org/")).toBe(true);
    const promoted = all.filter((p) => p.round === 1);
    expect(promoted.length).toBe(rounds[0]!.promoted);
    expect(promoted.length).toBeGreaterThan(0);
    expect(promoted.every((p) => p.host === "planetmath.org" && p.round === 1 && p.prefix === "planetmath.org/")).toBe(true);
    // an exact copy of another page is not promoted (a text counts once)
    const unselected = db.prepare("SELECT count(*) AS n FROM documents d WHERE d.host = 'planetmath.org' AND d.id NOT IN (SELECT doc_id FROM selections WHERE round = 1) AND d.id NOT IN (SELECT doc_id FROM copies)").get() as { n: number };
    expect(promoted.length).toBe(unselected.n);
    expect(rounds[1]!.held_out_recall).toBeGreaterThanOrEqual(rounds[0]!.held_out_recall);
    expect(rounds[1]!.convergence_share).toBeGreaterThan(0);
    const ann = db.prepare("SELECT prefix, decision, who FROM annotations").all();
    expect(ann).toEqual([{ prefix: "planetmath.org/", decision: "accept", who: "auto" }]);
  });

  it("stores every round's model with a sidecar, scores for every document, and reports", () => {
    for (const n of [1, 2]) {
      const side = JSON.parse(fs.readFileSync(path.join(dir, "run", "models", `round-${n}`, "model.json"), "utf8")) as { round: number; metrics: { roc_auc: number } };
      expect(side.round).toBe(n);
      expect(side.metrics.roc_auc).toBeGreaterThan(0.8);
      const c = db.prepare("SELECT count(*) AS n FROM scores WHERE round = ?").get(n) as { n: number };
      expect(c.n).toBe(rounds[0]!.documents);
      expect(fs.existsSync(path.join(dir, "run", "reports", `round-${n}.pr.svg`))).toBe(true);
    }
    expect(JSON.parse(fs.readFileSync(path.join(dir, "run", "config.json"), "utf8"))).toMatchObject({ command: "run", tokenBudget: 40000, fpr: 0.15, autoAccept: 0.5, tokenizer: "cl100k" });
  });

  it("rounds score every page from the feature hashes stored at extraction, as the fastText binary would", async () => {
    const docs = rounds[0]!.documents;
    expect((db.prepare("SELECT count(*) AS n FROM features").get() as { n: number }).n).toBe(docs);
    const scored = fs
      .readFileSync(path.join(dir, "run", "logs", "run.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { event: string; engine?: string; from_text?: number; documents?: number; threads?: number })
      .filter((e) => e.event === "scored");
    expect(scored).toHaveLength(2);
    expect(scored.every((e) => e.engine === "linear" && e.from_text === 0 && e.documents === docs)).toBe(true);
    // on a scoring thread per core (the default)
    expect(scored.map((e) => e.threads)).toEqual([os.availableParallelism(), os.availableParallelism()]);
    expect(rounds.map((r) => r.engine)).toEqual(["linear", "linear"]);
    const sample = db.prepare("SELECT d.text, s.score FROM scores s JOIN documents d ON d.id = s.doc_id WHERE s.round = 2 ORDER BY d.id LIMIT 200").all() as Array<{ text: string; score: number }>;
    const binary = new Scorer(path.join(dir, "run", "models", "round-2", "model.bin"), 1);
    try {
      const want = await binary.score(sample.map((x) => x.text));
      sample.forEach((x, i) => expect(Math.abs(x.score - want[i]!)).toBeLessThan(2e-4));
    } finally {
      await binary.close();
    }
    // a store begun before the distinct-token format keeps a pair per token: read as the same
    // features, and new pages are written to it in its own format
    const v1 = path.join(dir, "v1.sqlite");
    await db.backup(v1);
    const w = new Database(v1);
    const rewrite = w.prepare("UPDATE features SET hashes = ? WHERE doc_id = ?");
    for (const r of w.prepare("SELECT doc_id, hashes FROM features").all() as Array<{ doc_id: number; hashes: Buffer }>) {
      const f = unpackFeatures(new Uint32Array(new Uint8Array(r.hashes).buffer));
      rewrite.run(Buffer.from(f.buffer), r.doc_id);
    }
    w.prepare("UPDATE meta SET value = ? WHERE key = 'features_version'").run(FEATURES_VERSION_INTERLEAVED);
    w.close();
    const current = new WorkStore(path.join(dir, "run", "work.sqlite"));
    const older = new WorkStore(v1);
    try {
      expect(older.featuresCurrent).toBe(true);
      const want = [...current.iterFeatures(500)].flat();
      const got = [...older.iterFeatures(500)].flat();
      expect(got.length).toBe(docs);
      expect(got).toEqual(want);
      expect(got.every((r) => r.features !== null && r.text === null)).toBe(true);
      const text = "Let $x$ be a real number and x x x";
      const added = older.addDoc({ docKey: "new@0", url: "https://new.example/a", urlNorm: "https://new.example/a", host: "new.example", domain: "new.example", path: "/a", warcFile: "new", warcOffset: 0, warcLength: 1, offsetKind: "member", fetchDate: "", lang: "en", langConf: 1, title: "", text, contentHash: "x", features: featureHashes(text) });
      expect(added).toBe(true);
      const blob = older.db.prepare("SELECT f.hashes FROM features f JOIN documents d ON d.id = f.doc_id WHERE d.doc_key = 'new@0'").pluck().get() as Buffer;
      expect(blob.byteLength).toBe(8 * (fastTextLine(text).split(" ").length + 1));
      expect([...older.iterFeatures(500)].flat().at(-1)!.features).toEqual(featureHashes(text));
    } finally {
      current.close();
      older.close();
    }
    // a store whose features are of another format is scored from its text
    const copy = path.join(dir, "copy.sqlite");
    await db.backup(copy);
    const old = new Database(copy);
    old.prepare("UPDATE meta SET value = 'older' WHERE key = 'features_version'").run();
    old.close();
    const store = new WorkStore(copy);
    try {
      expect(store.featuresCurrent).toBe(false);
      const first = store.iterFeatures(10).next().value as Array<{ features: Uint32Array | null; text: string | null }>;
      expect(first.every((r) => r.features === null && typeof r.text === "string" && r.text.length > 0)).toBe(true);
    } finally {
      store.close();
    }
  });

  it("later rounds re-score stored text and never read the WARC", async () => {
    const runDir = path.join(dir, "run");
    const before = db.prepare("SELECT count(*) AS n FROM files").get();
    const r = await runCli(["round", "--run", runDir, "--sources", path.join(dir, "does-not-exist.warc.gz"), "--bucket", "20000", "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { rounds: Summary[] }).rounds[0]!.round).toBe(3);
    expect(r.stderr).not.toMatch(/crawling/);
    expect(db.prepare("SELECT count(*) AS n FROM files").get()).toEqual(before);
  });

  it("domains shows math-related hosts and records decisions; selected lists pages; eval --run reads the round", async () => {
    const runDir = path.join(dir, "run");
    const d = await runCli(["domains", "--run", runDir, "--reject", "planetmath.org/", "--who", "tester", "--json"]);
    expect(d.code).toBe(0);
    const j = JSON.parse(d.stdout) as { hosts: Array<{ host: string; prefixes: Array<{ prefix: string; decision: string }> }> };
    expect(j.hosts[0]!.host).toBe("planetmath.org");
    expect(j.hosts[0]!.prefixes.find((p) => p.prefix === "planetmath.org/")!.decision).toBe("reject");
    const bad = await runCli(["domains", "--run", runDir, "--accept", "not a prefix"]);
    expect(bad.code).toBe(2);
    const share = await runCli(["domains", "--run", runDir, "--auto-accept", "2"]);
    expect(share.code).toBe(2);
    expect(share.stderr).toMatch(/--auto-accept expects a share from 0 to 1, got 2/);
    const missing = await runCli(["domains", "--run", runDir, "--annotations", path.join(dir, "no-such.tsv")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/cannot read annotations file .*no-such\.tsv/);
    // one bad prefix records nothing, not even the good ones before it
    const annotations = () => db.prepare("SELECT prefix, decision FROM annotations ORDER BY prefix").all();
    const before = annotations();
    const mixed = await runCli(["domains", "--run", runDir, "--accept", "example.org/,not a prefix"]);
    expect(mixed.code).toBe(2);
    expect(annotations()).toEqual(before);
    // a prefix the round did not list is recorded, with a warning (a typo is the usual reason)
    const typo = await runCli(["domains", "--run", runDir, "--reject", "planetmth.org/", "--who", "tester"]);
    expect(typo.code).toBe(0);
    expect(typo.stderr).toMatch(/warning: not among round \d+'s prefixes of math-related hosts \(recorded anyway; check for a typo\): planetmth\.org\//);
    expect(annotations()).toContainEqual({ prefix: "planetmth.org/", decision: "reject" });
    expect(j.hosts[0]!.prefixes.some((p) => p.prefix === "planetmth.org/")).toBe(false);
    // a TSV as a spreadsheet saves it (BOM, header row, CRLF, "Reject"), prefixes written as URLs
    // or without their slash: taken in the form the round lists them
    const sheet = path.join(dir, "sheet.tsv");
    fs.writeFileSync(sheet, "\uFEFFprefix\tdecision\tnote\r\nhttps://PlanetMath.org\tReject\tfrom a sheet\r\nhttps://planetmth.org:443/?q=1\treject\r\n");
    const fromSheet = await runCli(["domains", "--run", runDir, "--annotations", sheet, "--who", "tester"]);
    expect(fromSheet.code, fromSheet.stderr).toBe(0);
    expect(fromSheet.stderr).toContain("domains: recorded 2 decisions by tester");
    expect(db.prepare("SELECT prefix, decision, note FROM annotations WHERE prefix LIKE 'planetm%' ORDER BY prefix").all()).toEqual([
      { prefix: "planetmath.org/", decision: "reject", note: "from a sheet" },
      { prefix: "planetmth.org/", decision: "reject", note: null },
    ]);
    expect(normalizePrefix("planetmath.org/Algebra/Groups/x.html")).toBe("planetmath.org/Algebra/Groups/x.html/");
    expect(normalizePrefix(" http://Host.ORG:8080/a#f ")).toBe("host.org/a/");
    expect(normalizePrefix("   ")).toBeUndefined();
    const s = await runCli(["selected", "--run", runDir, "--round", "1", "--jsonl"]);
    const lines = s.stdout.trim().split("\n").map((l) => JSON.parse(l) as { url: string; score: number; first_round: number });
    expect(lines).toHaveLength(rounds[0]!.selected);
    expect(lines.every((l) => l.first_round === 1)).toBe(true);
    const e = await runCli(["eval", "--run", runDir, "--round", "2", "--json"]);
    expect((JSON.parse(e.stdout) as { at_cutoff: { recall: number } }).at_cutoff.recall).toBeCloseTo(rounds[1]!.selection_recall, 6);
    // the round's training, its P(math) map and the score histograms, the cut-off's bin marked
    const ej = JSON.parse(e.stdout) as { training: { loss: number }; histograms: { bins: number; positives: number[]; negatives: number[]; crawl: number[] } };
    expect(ej.training.loss).toBeGreaterThan(0);
    expect(ej.histograms.bins).toBe(20);
    expect(ej.histograms.crawl.reduce((a, b) => a + b, 0)).toBe(rounds[1]!.documents);
    const et = await runCli(["eval", "--run", runDir, "--round", "2"]);
    expect(et.stdout).toMatch(/training: \d+ lines, \d+ epochs at lr [\d.]+, final loss [\d.]+ \(chance: 0\.69\)/);
    expect(et.stdout).toMatch(/P\(math\) = σ\([\d.]+ · logit\(score\) [−+] [\d.]+\), the crawl's math share taken as [\d.]+%/);
    expect(et.stdout).toContain("score       held-out seeds  held-out negatives  crawl");
    expect(et.stdout.match(/<- cut-off/g)).toHaveLength(1);
  });

  it("while the run is locked, commands that change it refuse (exit 2, naming the holder) and change nothing; readers go on", async () => {
    const runDir = path.join(dir, "run");
    const lock = RunLock.acquire(runDir, "round");
    const lastRound = () => (db.prepare("SELECT max(round) AS r FROM rounds").get() as { r: number }).r;
    const before = { round: lastRound(), annotations: db.prepare("SELECT * FROM annotations ORDER BY prefix").all(), config: fs.readFileSync(path.join(runDir, "config.json"), "utf8") };
    try {
      for (const argv of [
        ["round", "--run", runDir, "--bucket", "20000"],
        ["run", "--run", runDir, "--bucket", "20000"],
        ["domains", "--run", runDir, "--accept", "planetmath.org/"],
        ["clean", "--run", runDir],
        ["export", "--run", runDir],
      ]) {
        const r = await runCli(argv);
        expect(r.code, argv.join(" ")).toBe(2);
        expect(r.stderr).toContain(`${runDir} is in use by another mathcorpus process (\`round\`, pid ${process.pid} on ${os.hostname()}, since `);
      }
      // nothing changed, not even the run's config
      expect(lastRound()).toBe(before.round);
      expect(db.prepare("SELECT * FROM annotations ORDER BY prefix").all()).toEqual(before.annotations);
      expect(fs.readFileSync(path.join(runDir, "config.json"), "utf8")).toBe(before.config);
      // reading needs no lock
      expect((await runCli(["domains", "--run", runDir, "--json"])).code).toBe(0);
      expect((await runCli(["selected", "--run", runDir, "--round", "1", "--jsonl"])).code).toBe(0);
    } finally {
      lock.release();
    }
    expect(fs.existsSync(path.join(runDir, "lock.json"))).toBe(false);
    // released: the next writer gets it
    const d = await runCli(["domains", "--run", runDir, "--accept", "planetmath.org/"]);
    expect(d.code).toBe(0);
    expect(fs.existsSync(path.join(runDir, "lock.json"))).toBe(false);
  });

  it("a --round that has not run is an error for the commands that read one (it used to list nothing, successfully)", async () => {
    const runDir = path.join(dir, "run");
    const last = db.prepare("SELECT max(round) FROM rounds WHERE step = 'done'").pluck().get() as number;
    for (const c of ["selected", "domains", "clean", "export"]) {
      const r = await runCli([c, "--run", runDir, "--round", "99"]);
      expect(r.code, c).toBe(3);
      expect(r.stderr).toContain(`${runDir}: round 99 has not run; the last finished round is ${last}`);
    }
    expect((await runCli(["selected", "--run", runDir, "--round", "1"])).code).toBe(0);
  });
});

describe("sources that cannot be read", () => {
  it("round 1 stops after the crawl (exit 4) and a rerun retries them; --allow-failed-sources trains on what was read; later rounds say --sources is not read", async () => {
    const dir = tmpDir("mc-failed-");
    const src = path.join(dir, "warcs");
    fs.mkdirSync(src);
    fs.copyFileSync(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"), path.join(src, "a.warc.gz"));
    fs.writeFileSync(path.join(src, "b.warc.gz"), "<html><body>503 Service Unavailable</body></html>\n");
    const run = path.join(dir, "run");
    // named relative to the working folder (dir): the run keeps them by absolute path
    const args = ["round", "--run", run, "--sources", "warcs", "--bucket", "20000", "--json"];
    const docs = () => {
      const db = new Database(path.join(run, "work.sqlite"), { readonly: true });
      try {
        return {
          files: db.prepare("SELECT name FROM files ORDER BY name").pluck().all().map((f) => path.basename(String(f))),
          documents: db.prepare("SELECT count(*) FROM documents").pluck().get() as number,
          rounds: db.prepare("SELECT count(*) FROM rounds").pluck().get() as number,
        };
      } finally {
        db.close();
      }
    };
    const first = await runCli(args, dir);
    expect(first.code).toBe(4);
    expect(JSON.parse(first.stdout)).toMatchObject({
      rounds: [],
      failed_sources: [path.join(src, "b.warc.gz")],
      crawl: { files: 1, skipped: 0, failed: 1, url_dups: 0, dropped: { warc: { not_warc: 1 } } },
    });
    expect(first.stderr).toMatch(/round 1: dropped reading WARCs: [^\n]*not_warc=1[^\n]*; dropped in extraction: /);
    expect(first.stderr).toMatch(/round 1: stopped after the crawl: 1 source could not be read to the end and was not stored\. Rerun to retry it/);
    expect(first.stderr).not.toMatch(/round 1: train/);
    const afterFirst = docs();
    expect(afterFirst).toMatchObject({ files: ["a.warc.gz"], rounds: 0 });
    expect((JSON.parse(first.stdout) as { crawl: { documents: number } }).crawl.documents).toBe(afterFirst.documents);
    expect(afterFirst.documents).toBeGreaterThan(5);

    // as a run begun before local sources were kept absolute recorded it: the file as typed
    const db = new Database(path.join(run, "work.sqlite"));
    db.prepare("UPDATE files SET name = ?").run(path.join("warcs", "a.warc.gz"));
    db.prepare("UPDATE drops SET file = ? WHERE file = ?").run(path.join("warcs", "a.warc.gz"), path.join(src, "a.warc.gz"));
    db.close();
    // still broken: the rerun retries it, skips the finished file, and stops again
    const again = await runCli(args, dir);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/0 files crawled, 1 already done/);
    expect(docs()).toEqual(afterFirst);
    const names = new Database(path.join(run, "work.sqlite"), { readonly: true });
    expect(names.prepare("SELECT name FROM files").pluck().all()).toEqual([path.join(src, "a.warc.gz")]);
    expect(names.prepare("SELECT DISTINCT file FROM drops ORDER BY file").pluck().all()).toEqual([path.join(src, "a.warc.gz")]);
    names.close();

    expect(JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8"))).toMatchObject({ sources: [src] });
    // repaired: the rerun — from another folder, without --sources — crawls only it and goes on
    // to train, score and select round 1
    fs.copyFileSync(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"), path.join(src, "b.warc.gz"));
    const fixed = await runCli(["round", "--run", run, "--json"], src);
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toMatch(/1 files crawled, 1 already done/);
    const s = JSON.parse(fixed.stdout) as { rounds: Summary[]; failed_sources: string[] };
    expect(s.failed_sources).toEqual([]);
    expect(s.rounds.map((r) => r.round)).toEqual([1]);
    const afterFixed = docs();
    expect(afterFixed.files).toEqual(["a.warc.gz", "b.warc.gz"]);
    expect(afterFixed.documents).toBeGreaterThan(afterFirst.documents);
    expect(s.rounds[0]!.documents).toBe(afterFixed.documents);

    // round 2 does not read --sources, and says so once
    const second = await runCli([...args.slice(0, 4), path.join(dir, "other"), ...args.slice(5)]);
    expect(second.code).toBe(0);
    expect((JSON.parse(second.stdout) as { crawl: unknown }).crawl).toBeNull();
    expect(second.stderr.match(/--sources is read by round 1 only/g)).toHaveLength(1);
    expect(second.stderr).toMatch(new RegExp(`round 2: --sources is read by round 1 only; this round re-scores the ${afterFixed.documents} stored documents`));

    // a source that does not exist fails before the seeds are extracted
    const typo = await runCli(["round", "--run", path.join(dir, "run3"), "--sources", path.join(dir, "no-such.warc.gz")]);
    expect(typo.code).toBe(3);
    expect(typo.stderr).toMatch(/no such file or directory: .*no-such\.warc\.gz/);
    expect(fs.readFileSync(path.join(dir, "run3", "logs", "round.jsonl"), "utf8")).not.toMatch(/"event":"seeds"/);
    expect(fs.readFileSync(path.join(run, "logs", "round.jsonl"), "utf8")).toMatch(/"event":"seeds"/);

    // --allow-failed-sources: round 1 goes on without the unreadable file (exit 4: some sources failed)
    const run2 = path.join(dir, "run2");
    fs.writeFileSync(path.join(src, "b.warc.gz"), "<html><body>503 Service Unavailable</body></html>\n");
    const allowed = await runCli(["round", "--run", run2, "--sources", src, "--bucket", "20000", "--json", "--allow-failed-sources"]);
    expect(allowed.code).toBe(4);
    const a = JSON.parse(allowed.stdout) as { rounds: Summary[]; failed_sources: string[] };
    expect(a.failed_sources).toEqual([path.join(src, "b.warc.gz")]);
    expect(a.rounds.map((r) => [r.round, r.documents])).toEqual([[1, afterFirst.documents]]);
  }, 180_000);
});

describe("sources that give no documents", () => {
  it("say why: WET/WAT files, every page dropped in extraction, or files crawled before (exit 3)", async () => {
    const dir = tmpDir("mc-nodocs-");
    const wet = await runCli(["round", "--run", path.join(dir, "wet"), "--sources", fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.wet.gz")]);
    expect(wet.code).toBe(3);
    expect(wet.stderr).toContain("round 1: dropped reading WARCs: conversion=1 warcinfo=1");
    expect(wet.stderr).toContain("no documents were stored from the sources: they hold no HTTP responses, only conversion/metadata records — WET or WAT files? Common Crawl's pages are in its warc/ files, not wet/ or wat/");
    const args = ["round", "--run", path.join(dir, "short"), "--sources", fixture("warc", "hrbrmstr-20160901-00000.warc.gz"), "--min-chars", "100000"];
    const short = await runCli(args);
    expect(short.code).toBe(3);
    expect(short.stderr).toContain("no documents were stored from the sources: all 6 pages were dropped in extraction (too_short=6)");
    const again = await runCli(args);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("round 1: 0 files crawled, 1 already done");
    expect(again.stderr).toContain("the source was crawled by an earlier invocation and gave none; start a new run (another --run DIR) with other sources or extraction settings");
  });
});

describe("run stops when another round would repeat this one", () => {
  it("no page promoted: stop_reason nothing_promoted and how to go on; after annotation, run goes on from the next round", async () => {
    const dir = tmpDir("mc-stop-");
    const run = path.join(dir, "run");
    // the bundled crawl outside sample mode: no --auto-accept, so planetmath.org waits for a decision
    const args = ["run", "--run", run, "--sources", path.join(ROOT, "data", "crawl-sample.warc.gz"), "--token-budget", "40000", "--bucket", "20000", "--max-rounds", "3", "--json"];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as { rounds: Summary[]; stop_reason: string; export: unknown };
    expect(a.rounds.map((r) => [r.round, r.promoted])).toEqual([[1, 0]]);
    expect(a.rounds[0]!.math_related_hosts).toBeGreaterThan(0);
    expect(a.stop_reason).toBe("nothing_promoted");
    expect(first.stderr).toContain(`run: round 1 promoted no pages, so another round would train on the same data. ${a.rounds[0]!.math_related_hosts} math-related host`);
    expect(first.stderr).toContain(`review them in a browser with \`mathcorpus review --run ${run}\` (or list them with \`mathcorpus domains --run ${run}\``);
    expect(a.export).not.toBeNull(); // round 1's selection is still cleaned and exported

    const acc = await runCli(["domains", "--run", run, "--accept", "planetmath.org/"]);
    expect(acc.code).toBe(0);
    const second = await runCli(args);
    expect(second.code, second.stderr).toBe(0);
    const b = JSON.parse(second.stdout) as { rounds: Summary[]; stop_reason: string };
    // round 2 promotes planetmath.org's unselected pages; round 3 trains on them; 3 is the limit
    expect(b.rounds.map((r) => r.round)).toEqual([2, 3]);
    expect(b.rounds[0]!.promoted).toBeGreaterThan(0);
    expect(b.stop_reason).toBe(b.rounds[1]!.convergence_share! >= 0.98 ? "converged" : "max_rounds");
    // a last round that promotes nothing stops the run at the limit, not for want of promotion
    if (b.rounds[1]!.promoted === 0) expect(second.stderr).not.toContain("promoted no pages");

    // a rerun of a run that has converged adds no round (with the share reached as stop share)
    const share = b.rounds[1]!.convergence_share!;
    expect(share).toBeGreaterThan(0.5);
    const again = await runCli([...args.slice(0, -3), "--max-rounds", "9", "--stop-share", String(share), "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`run: already converged: ${(100 * share).toFixed(1)}% of round 3's selection was selected in round 2`);
    expect(JSON.parse(again.stdout)).toMatchObject({ rounds: [], stop_reason: "converged" });
    // a decision recorded since is new information: the run goes on
    expect((await runCli(["domains", "--run", run, "--reject", "planetmath.org/"])).code).toBe(0);
    const after = await runCli([...args.slice(0, -3), "--max-rounds", "4", "--stop-share", String(share), "--json"]);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { rounds: Summary[] }).rounds.map((r) => r.round)).toEqual([4]);

    expect(first.stderr).not.toMatch(/held-out recall is only/);
    // the same crawl with the default calibrated cut-off: 13 % of its pages are math; the pages
    // sampled from it as negatives that score like the seeds are left out, so the model does
    // not learn that math is not (--deterministic: one training thread, the same on every run)
    type Quality = Summary & { selection_recall: number; negatives: { sampled: number; taken_for_math: number }; cutoff_rule: string; calibration: { method: string }; training: { epoch: number; lr: number; sized: string[]; loss: number | null } };
    const calibrated = await runCli(["round", "--run", path.join(dir, "run3"), "--sources", "data/crawl-sample.warc.gz", "--bucket", "20000", "--deterministic", "--json"], ROOT);
    expect(calibrated.code, calibrated.stderr).toBe(0);
    const c = (JSON.parse(calibrated.stdout) as { rounds: Quality[] }).rounds[0]!;
    expect(c.negatives.taken_for_math).toBeGreaterThan(0);
    // trained with epochs and lr sized to ~2,700 lines, and fastText's final loss recorded: no underfit
    expect(c.training).toMatchObject({ epoch: 5, lr: 0.5, sized: ["epoch", "lr"] });
    expect(c.training.loss).toBeGreaterThan(0);
    expect(c.training.loss).toBeLessThan(0.3);
    expect(calibrated.stderr).not.toMatch(/underfits/);
    expect(c.calibration.method).toBe("platt");
    expect(c.cutoff_rule).toMatch(/^calibrated: P\(math\) >= 0\.5 \(the crawl's math share estimated at [\d.]+%/);
    expect(c.selection_recall).toBeGreaterThan(0.9);
    expect(calibrated.stderr).not.toMatch(/held-out recall is only/);
    // the same without (--no-unlabeled-negatives): the model learns that math is not, and is warned about
    const naive = await runCli(["round", "--run", path.join(dir, "run4"), "--sources", "data/crawl-sample.warc.gz", "--bucket", "20000", "--deterministic", "--paper-settings", "--no-unlabeled-negatives", "--fpr", "0.01", "--json"], ROOT);
    expect(naive.code, naive.stderr).toBe(0);
    const n = (JSON.parse(naive.stdout) as { rounds: Quality[] }).rounds[0]!;
    expect(n.negatives.taken_for_math).toBe(0);
    expect(n.training).toMatchObject({ epoch: 3, lr: 0.1, sized: [] });
    // the paper's settings on ~2,000 lines: the loss stays near ln 2, and the round says so
    expect(n.training.loss).toBeGreaterThan(0.3);
    expect(naive.stderr).toMatch(/warning: round 1: the model underfits: training loss 0\.\d+ \(chance is 0\.69\), held-out positives' median score/);
    expect(n.selection_recall).toBeLessThan(0.5);
    expect(naive.stderr).toContain(`warning: round 1: held-out recall is only ${n.selection_recall.toFixed(3)} at the calibrated cut-off (`);
    expect(naive.stderr).toContain("are probably far from mostly non-math (a crawl of math sites?). Give --negatives SOURCE,... (a random web sample), or select with --token-budget TOKENS or --threshold P instead");

    // nothing math-related at all: said so
    const plain = await runCli(["run", "--run", path.join(dir, "run2"), "--sources", fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"), "--bucket", "20000", "--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as { stop_reason: string; rounds: unknown[] })).toMatchObject({ stop_reason: "nothing_promoted", rounds: [{ round: 1 }] });
    expect(plain.stderr).toMatch(/run: round 1 found no math-related host \(none has more than --domain-share 0\.1 of its pages selected\)/);
  }, 240_000);
});

describe("a later invocation continues the run as it was started", () => {
  it("keeps its settings unless set again, and without --sources it is not taken for the bundled sample", async () => {
    const { dir, src } = twoWarcs("mc-keep-");
    const run = path.join(dir, "run");
    const first = await runCli(["round", "--run", run, "--sources", src, "--bucket", "20000", "--fpr", "0.05", "--domain-share", "0.2", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8"))).toMatchObject({ sample: false, bucket: 20000, fpr: 0.05, domainShare: 0.2 });
    // round 2 with no flags at all: the calibrated cut-off at 5 %, not the sample's token budget,
    // no auto-accept, the same classifier settings, and no word about --sources
    const second = await runCli(["round", "--run", run, "--json"]);
    expect(second.code, second.stderr).toBe(0);
    const s = (JSON.parse(second.stdout) as { rounds: Array<Summary & { cutoff: number; cutoff_rule: string; accepted_prefixes: number }> }).rounds[0]!;
    expect(s.round).toBe(2);
    // (this crawl is too small to hold out a negative page: the rule and a warning say so)
    expect(s.cutoff_rule).toBe("calibrated: none for at most 5%, no held-out negatives (0.5)");
    expect(s.cutoff).toBe(0.5);
    expect(second.stderr).toMatch(/warning: round 2: the cut-off cannot be calibrated to --fpr 0\.05: 0 held-out negatives \(20 needed\) and \d+ unlabeled pages? \(50 needed to estimate its math share\): the crawl's \d+ stored pages are too few; the model learned math from \d+ pages and what is not math from \d+ pages?\. Crawl more pages, or select with --token-budget TOKENS or --threshold SCORE/);
    expect(s.accepted_prefixes).toBe(0);
    expect(second.stderr).toMatch(/round: kept from .*config\.json: [^\n]*--fpr[^\n]*--domain-share[^\n]*|round: kept from .*config\.json: [^\n]*--domain-share[^\n]*--fpr/);
    expect(second.stderr).not.toMatch(/--sources is read by round 1 only/);
    expect((JSON.parse(fs.readFileSync(path.join(run, "models", "round-2", "model.json"), "utf8")) as { args: { bucket: number } }).args.bucket).toBe(20000);
    expect(JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8"))).toMatchObject({ sample: false, sources: [src], bucket: 20000, fpr: 0.05, domainShare: 0.2 });
    // a flag given again wins
    const third = await runCli(["round", "--run", run, "--fpr", "0.1", "--json"]);
    expect(third.code, third.stderr).toBe(0);
    expect((JSON.parse(third.stdout) as { rounds: Array<{ cutoff_rule: string }> }).rounds[0]!.cutoff_rule).toBe("calibrated: none for at most 10%, no held-out negatives (0.5)");
  }, 120_000);
});

describe("a crawl too small to calibrate the cut-off", () => {
  it("cuts above every held-out negative, says so in the rule and warns; --threshold is not warned about", async () => {
    const dir = tmpDir("mc-small-");
    const src = path.join(dir, "d.warc.gz");
    fs.copyFileSync(fixture("warc", "dolma-wget-sample-0000.warc.gz"), src);
    const r = await runCli(["round", "--run", path.join(dir, "run"), "--sources", src, "--bucket", "20000", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { run: string; rounds: Array<Summary & { positives: { train: number }; negatives: { train: number; held_out: number }; cutoff: number; cutoff_rule: string }> };
    // a run outside the working folder is named by its absolute path, not by "../../tmp/…"
    expect(out.run).toBe(path.join(dir, "run"));
    const s = out.rounds[0]!;
    const held = s.negatives.held_out;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(100);
    expect(s.cutoff_rule).toBe(`calibrated: above all ${held} held-out negatives (too few for at most 1%: 100 needed)`);
    const report = JSON.parse(fs.readFileSync(path.join(dir, "run", "reports", "round-1.eval.json"), "utf8")) as { scores: { negatives: number[] } };
    expect(report.scores.negatives).toHaveLength(held);
    expect(s.cutoff).toBeCloseTo(Math.max(...report.scores.negatives), 6);
    expect(r.stderr).toContain(
      `warning: round 1: the cut-off cannot be calibrated to --fpr 0.01: ${held} held-out negatives (100 needed) and ${held} unlabeled pages (50 needed to estimate its math share): the crawl's ${s.documents} stored pages are too few; the model learned math from ${s.positives.train} pages and what is not math from ${s.negatives.train} pages. Crawl more pages, or select with --token-budget TOKENS or --threshold SCORE`,
    );
    const t = await runCli(["round", "--run", path.join(dir, "run-t"), "--sources", src, "--bucket", "20000", "--threshold", "0.9", "--json"]);
    expect(t.code, t.stderr).toBe(0);
    // too few held-out pages to calibrate probabilities: the threshold is taken as a raw score, and said so
    expect((JSON.parse(t.stdout) as { rounds: Array<{ cutoff_rule: string }> }).rounds[0]!.cutoff_rule).toBe("threshold: P(math) >= 0.9 (raw score 0.9)");
    expect(t.stderr).toMatch(/warning: round 1: --threshold 0\.9 is taken as a raw score: \d+ held-out positives and \d+ held-out negatives are too few to calibrate probabilities \(20 of each needed\)/);
    expect(t.stderr).not.toMatch(/cannot be calibrated/);
    // --fpr 0 asks for a cut-off above every held-out negative: any number of them is enough
    const z = await runCli(["round", "--run", path.join(dir, "run-0"), "--sources", src, "--bucket", "20000", "--fpr", "0", "--json"]);
    expect(z.code, z.stderr).toBe(0);
    expect((JSON.parse(z.stdout) as { rounds: Array<{ cutoff_rule: string }> }).rounds[0]!.cutoff_rule).toBe("calibrated: at most 0% of held-out negatives");
    expect(z.stderr).not.toMatch(/cannot be calibrated|Infinity/);
  }, 120_000);

  it("with too few seeds the warning says so: negatives are sampled as many as the seeds", async () => {
    const dir = tmpDir("mc-fewseeds-");
    const seeds = path.join(dir, "seeds");
    fs.mkdirSync(seeds);
    const lines = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "seeds", "seeds-stackmathqa.jsonl.gz"))).toString().split("\n").slice(0, 3);
    fs.writeFileSync(path.join(seeds, "s.jsonl"), lines.join("\n") + "\n");
    const r = await runCli(["round", "--run", path.join(dir, "run"), "--sources", fixture("warc", "dolma-wget-sample-0000.warc.gz"), "--seeds", seeds, "--bucket", "20000", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = (JSON.parse(r.stdout) as { rounds: Array<{ positives: { train: number; held_out: number; seeds: number }; negatives: { train: number; held_out: number } }> }).rounds[0]!;
    expect(s.positives.seeds).toBe(3);
    expect(s.negatives.train + s.negatives.held_out).toBe(3);
    expect(r.stderr).toContain(
      `warning: round 1: the cut-off cannot be calibrated to --fpr 0.01: ${s.negatives.held_out} held-out negative${s.negatives.held_out === 1 ? "" : "s"} (100 needed) and ${s.positives.held_out} held-out positive${s.positives.held_out === 1 ? "" : "s"} (20 needed to estimate the crawl's math share): 3 seeds are too few, and as many negatives are sampled; the model learned math from ${s.positives.train} page${s.positives.train === 1 ? "" : "s"} and what is not math from ${s.negatives.train} page${s.negatives.train === 1 ? "" : "s"}. Add seeds, or select with --token-budget TOKENS or --threshold SCORE`,
    );
  }, 120_000);
});

describe("the held-out split", () => {
  it("does not depend on where the WARC lies or how its path is written: the same crawl gives the same split and a byte-identical model", async () => {
    const dir = tmpDir("mc-split-");
    for (const d of ["x", path.join("y", "z")]) {
      fs.mkdirSync(path.join(dir, d), { recursive: true });
      fs.copyFileSync(path.join(ROOT, "data", "crawl-sample.warc.gz"), path.join(dir, d, "c.warc.gz"));
    }
    // one relative to the working folder, one absolute and deeper
    const common = ["--bucket", "20000", "--deterministic", "--json"];
    const a = await runCli(["round", "--run", "run-a", "--sources", path.join("x", "c.warc.gz"), ...common], dir);
    const b = await runCli(["round", "--run", path.join(dir, "run-b"), "--sources", path.join(dir, "y", "z", "c.warc.gz"), ...common], dir);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    type S = Summary & { negatives: { train: number; held_out: number }; cutoff: number };
    const [ra, rb] = [a, b].map((r) => (JSON.parse(r.stdout) as { rounds: S[] }).rounds[0]!);
    expect(ra!.documents).toBeGreaterThan(500);
    expect(ra!.negatives.held_out).toBeGreaterThan(0);
    // a crawl of this size calibrates the cut-off, and no warning says it cannot
    expect((ra as S & { cutoff_rule: string }).cutoff_rule).toMatch(/^calibrated: (at most 1% of (non-math pages|held-out negatives)|P\(math\) >= 0\.5)/);
    expect(a.stderr).not.toMatch(/cannot be calibrated/);
    expect(rb!.negatives).toEqual(ra!.negatives);
    expect(rb!.cutoff).toBe(ra!.cutoff);
    expect(rb!.selected).toBe(ra!.selected);
    const model = (run: string) => fs.readFileSync(path.join(dir, run, "models", "round-1", "model.bin"));
    expect(model("run-b").equals(model("run-a"))).toBe(true);
    // the doc keys differ (they name the file by its path), the scores do not
    const keyed = (run: string) => {
      const db = new Database(path.join(dir, run, "work.sqlite"), { readonly: true });
      try {
        return db.prepare("SELECT d.doc_key, d.url_norm, s.score FROM documents d JOIN scores s ON s.doc_id = d.id ORDER BY d.url_norm").all() as Array<{ doc_key: string; url_norm: string; score: number }>;
      } finally {
        db.close();
      }
    };
    const [ka, kb] = [keyed("run-a"), keyed("run-b")];
    expect(ka[0]!.doc_key).not.toBe(kb[0]!.doc_key);
    expect(kb.map((r) => [r.url_norm, r.score])).toEqual(ka.map((r) => [r.url_norm, r.score]));
    // nor do the exports: their ids are WARC-Record-IDs, so the seeded permutation and the shards are the same
    const shards: string[][] = [];
    for (const run of ["run-a", path.join(dir, "run-b")]) {
      const c = await runCli(["clean", "--run", run], dir);
      expect(c.code, c.stderr).toBe(0);
      const e = await runCli(["export", "--run", run, "--out", `${run}-export`, "--shard-docs", "5"], dir);
      expect(e.code, e.stderr).toBe(0);
      const manifest = JSON.parse(fs.readFileSync(path.resolve(dir, `${run}-export`, "manifest.json"), "utf8")) as { documents: number; shards: Array<{ sha256: string }> };
      expect(manifest.documents).toBeGreaterThan(5);
      shards.push(manifest.shards.map((x) => x.sha256));
    }
    expect(shards[1]).toEqual(shards[0]);
  }, 180_000);

  it("a crawl whose every sampled page is held out is a clear error (exit 3), not a training failure", async () => {
    const dir = tmpDir("mc-heldneg-");
    // one ordinary page whose URL falls in the 10 % held-out split
    let n = 0;
    while (!isHeldOut(normalizeUrl(`https://example.org/p${n}`), 0.1)) n++;
    const body = `<html><body><p>${"A page of ordinary prose long enough to be kept by the filters. ".repeat(8)}</p></body></html>`;
    const warc = path.join(dir, "one.warc");
    fs.writeFileSync(warc, responseRecord(`https://example.org/p${n}`, body));
    const r = await runCli(["round", "--run", path.join(dir, "run"), "--sources", warc, "--bucket", "20000"]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain("round 1: no negative training documents: the crawl stored 1 document(s) and the 1 sampled from it all fall in the held-out split (--held-out 0.1); crawl more pages");
  }, 60_000);
});

describe("crawl progress", () => {
  it("round 1 shows seed extraction, then files, pages, kept, rates and an ETA on a TTY, clears the line before other output, and stays silent elsewhere", async () => {
    const { dir, src } = twoWarcs("mc-progress-");
    const out = new PassThrough();
    const err = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: Buffer[] = [];
    err.on("data", (c: Buffer) => chunks.push(c));
    out.resume();
    const code = await main(["round", "--run", path.join(dir, "run"), "--sources", src, "--bucket", "20000"], { stdout: out, stderr: err, cwd: ROOT, env: {} });
    expect(code).toBe(0);
    const stderr = Buffer.concat(chunks).toString("utf8");
    const lines = [...stderr.matchAll(/\r\x1b\[2K(round 1: files [^\r\n]*)/g)].map((m) => m[1]!);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^round 1: files [012]\/2 {2}pages \d+ {2}kept \d+ {2}\d+ pages\/s {2}[\d.]+ (B|KB|MB|GB)\/s {2}ETA (\d+s|\d+m\d\ds|-)$/);
    // the seed folder's extraction (the first report is always shown)
    const seedLines = [...stderr.matchAll(/\r\x1b\[2K(seeds: [^\r\n]*)/g)].map((m) => m[1]!);
    expect(seedLines.length).toBeGreaterThan(0);
    for (const l of seedLines) expect(l).toMatch(/^seeds: \d+ extracted, \d+ kept {2}\d+ seeds\/s$/);
    // training and scoring report on the same line (how often depends on the clock: checked when shown)
    for (const m of stderr.matchAll(/\r\x1b\[2Kround 1: (train|score) ([^\r\n]*)/g)) {
      expect(m[2]).toMatch(m[1] === "train" ? /^[\d.]+% {2}ETA (<1m|\d+m|\d+h\d\dm)$/ : /^\d+\/\d+ {2}\d+ pages\/s {2}ETA \S+$/);
    }
    // the line is cleared before the crawl's summary line
    expect(stderr).toMatch(/\r\x1b\[2Kround 1: 2 files crawled, 0 already done;/);
    // not a TTY: no progress line at all
    const plain = await runCli(["round", "--run", path.join(dir, "run2"), "--sources", src, "--bucket", "20000"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).not.toMatch(/\x1b|files \d+\/2/);
  }, 120_000);

  it("the progress line is throttled to one update per 250 ms, and a cleared line shows the next phase at once", () => {
    const err = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: string[] = [];
    err.on("data", (c: Buffer) => chunks.push(c.toString()));
    const p = new Progress(err);
    p.update(() => "seeds 1");
    p.update(() => "seeds 2"); // within 250 ms: not shown
    p.done();
    p.update(() => "crawl 1"); // a new phase: shown at once
    p.update(() => "crawl 2");
    p.done();
    expect(chunks.join("")).toBe("\r\x1b[2Kseeds 1\r\x1b[2K\r\x1b[2Kcrawl 1\r\x1b[2K");
    // not a terminal: nothing at all
    const plain = new PassThrough();
    const out: string[] = [];
    plain.on("data", (c: Buffer) => out.push(c.toString()));
    const q = new Progress(plain);
    q.update(() => "x");
    q.done();
    expect(out).toEqual([]);
  });

  it("the ETA goes by bytes when every file is local, else by files once one is done", () => {
    const dir = tmpDir("mc-eta-");
    fs.writeFileSync(path.join(dir, "a.warc.gz"), Buffer.alloc(600));
    fs.writeFileSync(path.join(dir, "b.warc.gz"), Buffer.alloc(400));
    const local = crawlProgress(["a.warc.gz", "b.warc.gz"], dir);
    // 250 of 1,000 bytes in 10 s: 30 s to go
    expect(local({ files: 0, pages: 40, kept: 30, bytes: 250 }, 10)).toBe("round 1: files 0/2  pages 40  kept 30  4 pages/s  25 B/s  ETA 30s");
    expect(local({ files: 0, pages: 0, kept: 0, bytes: 0 }, 0)).toMatch(/ETA -$/);
    const remote = crawlProgress(["https://data.commoncrawl.org/x/1.warc.gz", "a.warc.gz", "https://data.commoncrawl.org/x/2.warc.gz", "https://data.commoncrawl.org/x/3.warc.gz"], dir);
    expect(remote({ files: 0, pages: 10, kept: 10, bytes: 5000 }, 20)).toMatch(/ETA -$/);
    // one of four files in 90 s: three more take 4m30s
    expect(remote({ files: 1, pages: 10, kept: 10, bytes: 5000 }, 90)).toMatch(/ETA 4m30s$/);
    expect(formatDuration(3 * 3600 + 5 * 60 + 7)).toBe("3h05m");
  });
});

describe("run lock", () => {
  it("a process killed with SIGKILL leaves no lock behind; a run directory that does not exist is not created by clean/export", async () => {
    const dir = tmpDir("mc-lock-");
    const runDir = path.join(dir, "run");
    // a child takes the lock and waits; the OS drops the lock when it is killed
    const child = spawn(process.execPath, ["--input-type=module", "-e", `const { RunLock } = await import(${JSON.stringify(path.join(ROOT, "dist", "src", "store", "lock.js"))}); globalThis.held = RunLock.acquire(${JSON.stringify(runDir)}, "run"); console.log("locked"); setInterval(() => {}, 1000);`], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (c: Buffer) => c.toString().includes("locked") && resolve());
      child.on("exit", (code) => reject(new Error(`child ended (${code}) before taking the lock`)));
    });
    expect(() => RunLock.acquire(runDir, "clean")).toThrow(new RegExp(`in use by another mathcorpus process \\(\`run\`, pid ${child.pid} `));
    const gone = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await gone;
    // no waiting, no stale lock to remove by hand
    const lock = RunLock.acquire(runDir, "clean");
    expect(JSON.parse(fs.readFileSync(path.join(runDir, "lock.json"), "utf8"))).toMatchObject({ pid: process.pid, command: "clean" });
    lock.release();
    lock.release(); // idempotent
    // --run naming a file: a usage error, not a crash
    const file = path.join(dir, "file.txt");
    fs.writeFileSync(file, "x");
    const notDir = await runCli(["round", "--run", file, "--sources", fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz")]);
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toContain(`--run ${file} is a file, not a run directory`);
    const missing = path.join(dir, "no-such-run");
    for (const c of ["clean", "export"]) {
      const r = await runCli([c, "--run", missing]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/no work store at/);
    }
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe("token budgets in DeepSeek-V3 tokens", () => {
  it("--tokenizer deepseek-v3 counts the budget with DeepSeek-V3's vocabulary, fixed for the run", async () => {
    const { tokenCounter } = await import("../../src/core/tokens.js");
    const run = path.join(tmpDir("mc-tok-"), "run");
    const r = await runCli(["round", "--run", run, "--token-budget", "20000", "--tokenizer", "deepseek-v3", "--bucket", "20000", "--json"]);
    if (r.code !== 0) throw new Error(r.stderr);
    const s = (JSON.parse(r.stdout) as { rounds: Array<Summary & { selected_tokens: number; tokenizer: string }> }).rounds[0]!;
    expect(s.tokenizer).toBe("deepseek-v3");
    const db = new Database(path.join(run, "work.sqlite"), { readonly: true });
    try {
      expect(db.prepare("SELECT value FROM meta WHERE key = 'tokenizer'").pluck().get()).toBe("deepseek-v3");
      const sel = db.prepare("SELECT d.text, d.tokens FROM selections x JOIN documents d ON d.id = x.doc_id WHERE x.round = 1").all() as Array<{ text: string; tokens: number }>;
      expect(sel.length).toBe(s.selected);
      const ds = await tokenCounter("deepseek-v3");
      const cl = await tokenCounter("cl100k");
      expect(sel.every((d) => d.tokens === ds(d.text))).toBe(true);
      expect(sel.some((d) => d.tokens !== cl(d.text))).toBe(true);
      expect(sel.reduce((n, d) => n + d.tokens, 0)).toBe(s.selected_tokens);
      // the budget was filled and not overshot by more than the last page
      expect(s.selected_tokens).toBeGreaterThanOrEqual(20000);
      expect(s.selected_tokens - Math.max(...sel.map((d) => d.tokens))).toBeLessThan(20000);
    } finally {
      db.close();
    }
    const other = await runCli(["round", "--run", run, "--tokenizer", "cl100k", "--bucket", "20000"]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/this run counts tokens with deepseek-v3; --tokenizer cl100k needs a new run/);
    expect(JSON.parse(fs.readFileSync(path.join(run, "config.json"), "utf8"))).toMatchObject({ tokenizer: "deepseek-v3", tokenBudget: 20000 });
    const bad = await runCli(["round", "--run", run, "--tokenizer", "gpt2"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tokenizer expects cl100k or deepseek-v3, got gpt2/);
  }, 120_000);
});

describe("the run summary", () => {
  it("lists the first math-related hosts and accepted prefixes, and says how many more", () => {
    const dir = tmpDir("mc-summary-");
    const store = new WorkStore(path.join(dir, "work.sqlite"));
    try {
      const host = store.db.prepare("INSERT INTO domain_stats (round, host, pages, selected, share, math_related) VALUES (1, ?, 10, ?, ?, ?)");
      const ann = store.db.prepare("INSERT INTO annotations (prefix, decision, who, at) VALUES (?, 'accept', 'auto', 'now')");
      for (let i = 0; i < 8; i++) host.run(`h${i}.org`, 9 - i, (9 - i) / 10, 1);
      host.run("plain.org", 0, 0, 0);
      for (let i = 0; i < 13; i++) ann.run(`h${String(i).padStart(2, "0")}.org/`);
      const t = runSummary(RunStores.from(store, dir, undefined), [], { round: 1, selected: 0, kept: 0, removed: {}, clusters: 0 } as unknown as CleanSummary, { documents: 0, tokens: 0, shards: [] } as unknown as Manifest, "out");
      expect(t).toContain("math-related hosts           h0.org (9/10), h1.org (8/10), h2.org (7/10), h3.org (6/10), h4.org (5/10) and 3 more (mathcorpus domains)\n");
      expect(t).toMatch(/accepted prefixes {12}h00\.org\/ \(auto\), .*h09\.org\/ \(auto\) and 3 more \(mathcorpus domains\)\n/);
    } finally {
      store.close();
    }
  });
});

describe("URL normalisation and prefixes", () => {
  it("drops fragments, default ports, tracking and session parameters; keeps paths", () => {
    expect(normalizeUrl("HTTP://Example.COM:80/a/B?utm_source=x&id=3&PHPSESSID=abc#top")).toBe("http://example.com/a/B?id=3");
    expect(normalizeUrl("https://x.org:443/p/")).toBe("https://x.org/p/");
  });
  it("prefixes: host root, then one and two directory segments", () => {
    expect(urlPrefixes("h.org", "/a/b/c.html").map((p) => p.prefix)).toEqual(["h.org/", "h.org/a/", "h.org/a/b/"]);
    expect(urlPrefixes("h.org", "/page").map((p) => p.prefix)).toEqual(["h.org/"]);
  });
});

/** A temporary folder `src` holding two small real WARC files (a.warc.gz, b.warc.gz), in `dir`. */
function twoWarcs(prefix: string): { dir: string; src: string } {
  const dir = tmpDir(prefix);
  const src = path.join(dir, "warcs");
  fs.mkdirSync(src);
  fs.copyFileSync(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"), path.join(src, "a.warc.gz"));
  fs.copyFileSync(fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz"), path.join(src, "b.warc.gz"));
  return { dir, src };
}

function runProc(args: string[], killAfterMs?: number): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "ignore"] });
    const t = killAfterMs === undefined ? undefined : setTimeout(() => p.kill("SIGKILL"), killAfterMs);
    p.on("exit", (code) => {
      if (t) clearTimeout(t);
      resolve(code);
    });
  });
}

function snapshot(file: string): { docs: unknown[]; scores: unknown[]; features: unknown[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      docs: db.prepare("SELECT doc_key, url_norm, content_hash FROM documents ORDER BY doc_key").all(),
      scores: db.prepare("SELECT d.doc_key, s.round, s.score FROM scores s JOIN documents d ON d.id = s.doc_id ORDER BY d.doc_key, s.round").all(),
      features: (db.prepare("SELECT d.doc_key, f.hashes FROM documents d LEFT JOIN features f ON f.doc_id = d.id ORDER BY d.doc_key").all() as Array<{ doc_key: string; hashes: Buffer | null }>).map((r) => [
        r.doc_key,
        r.hashes ? crypto.createHash("sha1").update(r.hashes).digest("hex") : null,
      ]),
    };
  } finally {
    db.close();
  }
}

describe("crash safety", () => {
  it("SIGTERM during training stops the fastText process at once (exit 130), and a rerun trains again", async () => {
    const dir = tmpDir("mc-term-");
    const run = path.join(dir, "run");
    const args = ["round", "--run", run, "--sources", fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz")];
    // 100 epochs: training would take half a minute
    const p = spawn(process.execPath, [CLI, ...args, "--epoch", "100"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => p.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      p.stderr!.on("data", (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes("round 1: train")) resolve();
      });
      void exited.then(() => reject(new Error(`ended before training: ${stderr}`)));
    });
    // the binary is running on this run's training file
    const trainers = () => {
      const out: string[] = [];
      for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
        try {
          const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
          if (cmd.includes("supervised") && cmd.includes(run)) out.push(pid);
        } catch {
          // gone meanwhile
        }
      }
      return out;
    };
    // the training file is written first; wait (up to 20 s on a loaded machine) for the process
    for (let i = 0; i < 200 && trainers().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(trainers().length).toBeGreaterThan(0);
    const t0 = Date.now();
    p.kill("SIGTERM");
    expect(await exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(10_000); // 100 epochs take ~40 s
    expect(stderr).toMatch(/mathcorpus: interrupted/);
    expect(trainers()).toEqual([]);
    const again = await runCli([...args, "--epoch", "3", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { rounds: Summary[] }).rounds.map((r) => r.round)).toEqual([1]);
  }, 180_000);

  it("SIGKILL at random points of a multi-file round, then rerun: exactly the documents and scores of an uninterrupted run", async () => {
    const dir = tmpDir("mc-kill-");
    const src = path.join(dir, "warcs");
    fs.mkdirSync(src);
    for (const f of ["CC-MAIN-2020-34-excerpt.resiliparse.warc.gz", "clueweb09-en-sample.warc.gz", "dolma-wget-sample-0000.warc.gz", "hrbrmstr-20160901-00000.warc.gz"]) fs.copyFileSync(fixture("warc", f), path.join(src, f));
    fs.copyFileSync(path.join(ROOT, "data", "crawl-sample.warc.gz"), path.join(src, "zz-sample.warc.gz"));
    const seeds = path.join(dir, "seeds");
    fs.mkdirSync(seeds);
    const lines = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "seeds", "seeds-stackmathqa.jsonl.gz"))).toString().split("\n").slice(0, 300);
    fs.writeFileSync(path.join(seeds, "s.jsonl"), lines.join("\n") + "\n");
    const args = (run: string) => ["round", "--run", run, "--sources", src, "--seeds", seeds, "--deterministic", "--bucket", "20000", "--threads", "2"];
    expect(await runProc(args(path.join(dir, "clean")))).toBe(0);
    const clean = snapshot(path.join(dir, "clean", "work.sqlite"));
    const killed = path.join(dir, "killed");
    let random = 12345;
    const next = () => ((random = (random * 1103515245 + 12345) % 2 ** 31), random / 2 ** 31);
    let kills = 0;
    for (let i = 0; i < 4; i++) {
      const code = await runProc(args(killed), 400 + Math.floor(next() * 2500));
      if (code === null) kills++;
      if (code === 0) break;
    }
    expect(kills).toBeGreaterThan(0);
    expect(await runProc(args(killed))).toBe(0);
    const after = snapshot(path.join(killed, "work.sqlite"));
    expect(after.docs).toEqual(clean.docs);
    expect(after.scores).toEqual(clean.scores);
    expect(after.features).toEqual(clean.features);
    expect(clean.features.every((f) => (f as [string, string | null])[1] !== null)).toBe(true);
    expect(clean.docs.length).toBeGreaterThan(700);
  }, 300_000);
});

describe("seeds", () => {
  it("are extracted once: a later invocation reads them from the store; a changed seed folder is extracted again", async () => {
    const dir = tmpDir("mc-seeds-");
    const seeds = path.join(dir, "seeds");
    fs.mkdirSync(seeds);
    const lines = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "seeds", "seeds-stackmathqa.jsonl.gz"))).toString().split("\n").filter(Boolean);
    fs.writeFileSync(path.join(seeds, "s.jsonl"), lines.slice(0, 300).join("\n") + "\n");
    const run = path.join(dir, "run");
    const args = ["round", "--run", run, "--sources", path.join(ROOT, "data", "crawl-sample.warc.gz"), "--seeds", seeds, "--bucket", "20000", "--json"];
    const seedEvents = () =>
      fs
        .readFileSync(path.join(run, "logs", "round.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: string; docs?: number; cached?: boolean })
        .filter((e) => e.event === "seeds")
        .map((e) => ({ docs: e.docs, cached: e.cached }));
    const stored = () => {
      const db = new Database(path.join(run, "work.sqlite"), { readonly: true });
      try {
        return db.prepare("SELECT id, url, text FROM seeds ORDER BY n").all();
      } finally {
        db.close();
      }
    };
    const fresh = async () => {
      const opts = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS };
      const ex = new Extractor(opts, 0);
      const lang = new LangId();
      try {
        return (await readSeeds(seeds, ex, lang, opts, () => {})).docs;
      } finally {
        await Promise.all([ex.close(), lang.close()]);
      }
    };

    for (let i = 0; i < 2; i++) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(0);
    }
    const first = await fresh();
    expect(first.length).toBeGreaterThan(250);
    expect(seedEvents()).toEqual([
      { docs: first.length, cached: false },
      { docs: first.length, cached: true },
    ]);
    expect(stored()).toEqual(first); // what later rounds read is what extraction gives

    // a changed seed file is extracted again
    fs.writeFileSync(path.join(seeds, "s.jsonl"), lines.slice(0, 200).join("\n") + "\n");
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(0);
    const second = await fresh();
    expect(second.length).toBeLessThan(first.length);
    expect(seedEvents()[2]).toEqual({ docs: second.length, cached: false });
    expect(stored()).toEqual(second);
    const summary = (JSON.parse(r.stdout) as { rounds: Array<{ round: number; positives: { seeds: number } }> }).rounds[0]!;
    expect(summary.round).toBe(3);
    expect(summary.positives.seeds).toBe(second.length);

    // the seed folder gone (the run moved to another machine): the run's extracted seeds are used
    fs.rmSync(seeds, { recursive: true });
    const moved = await runCli(args);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stderr).toContain(`warning: seeds ${seeds} not found: using the ${second.length} seeds this run extracted from it before`);
    expect(seedEvents()[3]).toEqual({ docs: second.length, cached: true });
    expect((JSON.parse(moved.stdout) as { rounds: Array<{ round: number; positives: { seeds: number } }> }).rounds[0]!).toMatchObject({ round: 4, positives: { seeds: second.length } });
    // a new run has nothing to fall back on
    const none = await runCli(["round", "--run", path.join(dir, "run-new"), "--sources", path.join(ROOT, "data", "crawl-sample.warc.gz"), "--seeds", seeds]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`seeds not found: ${seeds}`);

    // seeds in Parquet beside JSONL (OpenWebMath, the paper's seed corpus, ships as Parquet)
    fs.mkdirSync(seeds);
    fs.writeFileSync(path.join(seeds, "s.jsonl"), lines.slice(0, 200).join("\n") + "\n");
    fs.copyFileSync(fixture("seeds", "planetmath-html.parquet"), path.join(seeds, "p.parquet"));
    fs.copyFileSync(fixture("seeds", "owm-like.parquet"), path.join(seeds, "o.parquet"));
    const withParquet = await runCli(args);
    expect(withParquet.code, withParquet.stderr).toBe(0);
    const third = await fresh();
    expect(third.length).toBe(second.length + 3 + 20);
    expect(third.filter((d) => d.url.startsWith("https://planetmath.org/"))).toHaveLength(3);
    // rows without an id are named by file name and row, wherever the process runs (the split goes by id)
    expect(third.filter((d) => d.id.startsWith("o.parquet:")).map((d) => d.id)).toEqual(Array.from({ length: 20 }, (_, i) => `o.parquet:${i + 1}`));
    expect(seedEvents()[4]).toEqual({ docs: third.length, cached: false });
    expect(stored()).toEqual(third);
  }, 120_000);
});

describe("ingest", () => {
  it("drops URL duplicates (after normalisation) before extracting them, and counts them", async () => {
    const dir = tmpDir("mc-ingest-");
    const body = `<html><body><p>${"A page of ordinary prose long enough to be kept by the filters. ".repeat(5)}</p></body></html>`;
    const warc = path.join(dir, "dups.warc");
    fs.writeFileSync(warc, Buffer.concat([responseRecord("https://Example.org/a?utm_source=x", body), responseRecord("https://example.org:443/a#top", body), responseRecord("https://example.org/b", body)]));
    const store = new WorkStore(path.join(dir, "work.sqlite"));
    const opts = { limits: DEFAULT_LIMITS, filters: { minChars: 10, minTextRatio: 0, minWordShare: 0 } };
    const extractor = new Extractor(opts, 0);
    const lang = new LangId();
    try {
      const s = await ingest([localSource(warc)], store, extractor, lang, { maxRecordBytes: 1 << 20, pipeline: { ...opts, langs: [], window: 4 }, logger: nullLogger });
      expect(s).toMatchObject({ files: 1, pages: 3, kept: 2, urlDups: 1 });
      expect(s.extract.seen).toBe(2); // the duplicate never reached the extractor
      expect(store.db.prepare("SELECT reason, count FROM drops WHERE stage = 'extract'").all()).toEqual([{ reason: "url_dup", count: 1 }]);
      expect(store.db.prepare("SELECT url_norm FROM documents ORDER BY id").pluck().all()).toEqual(["https://example.org/a", "https://example.org/b"]);
      // each page's WARC-Record-ID is kept (the export's id)
      expect(store.db.prepare("SELECT record_id FROM documents ORDER BY id").pluck().all()).toEqual(["<urn:uuid:34-test>", "<urn:uuid:21-test>"]);
    } finally {
      store.close();
      await Promise.all([extractor.close(), lang.close()]);
    }
  });

  it("a work store from before record ids were kept opens with the column added, its rows without one", () => {
    const file = path.join(tmpDir("mc-oldstore-"), "work.sqlite");
    const row = { docKey: "w@0", url: "https://x.example/", urlNorm: "https://x.example/", host: "x.example", domain: "x.example", path: "/", warcFile: "w", warcOffset: 0, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text: "t", contentHash: "" };
    const old = new WorkStore(file);
    old.addDoc(row);
    old.db.exec("ALTER TABLE documents DROP COLUMN record_id");
    old.close();
    const store = new WorkStore(file);
    try {
      expect(store.db.prepare("SELECT doc_key, record_id FROM documents").all()).toEqual([{ doc_key: "w@0", record_id: null }]);
      expect(store.addDoc({ ...row, docKey: "w@1", url: "https://x.example/2", urlNorm: "https://x.example/2", recordId: "<urn:uuid:2>" })).toBe(true);
      expect(store.db.prepare("SELECT record_id FROM documents WHERE doc_key = 'w@1'").pluck().get()).toBe("<urn:uuid:2>");
    } finally {
      store.close();
    }
  });
});
