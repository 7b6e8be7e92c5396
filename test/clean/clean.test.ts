import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { cleanRound } from "../../src/clean/clean.js";
import { cleanMapPart, cleanMetaKey } from "../../src/clean/map.js";
import { nullLogger } from "../../src/core/log.js";
import { BenchmarkIndex, loadBenchmarkDir, readBenchmark } from "../../src/decont/index.js";
import { DEFAULT_MINHASH, MinHasher, estimateJaccard, jaccard, shingles } from "../../src/dedup/minhash.js";
import { exportRound } from "../../src/export/export.js";
import { WorkStore } from "../../src/store/store.js";
import { RunStores, docId, fileNoOf } from "../../src/store/stores.js";

/** A store made by hand as the run store of a run of one task. */
const one = (s: WorkStore) => RunStores.from(s, path.dirname(s.file), undefined);
import { ROOT, partsRun, runCli, tmpDir } from "../helpers.js";

const BENCH = path.join(ROOT, "data", "benchmarks");
const FIX = path.join(ROOT, "test", "fixtures", "benchmarks");
let index: BenchmarkIndex;

/** Real StackMathQA answers (text), the bundled seeds. */
function realTexts(n: number): string[] {
  return zlib
    .gunzipSync(fs.readFileSync(path.join(ROOT, "seeds", "seeds-stackmathqa.jsonl.gz")))
    .toString()
    .split("\n")
    .filter(Boolean)
    .slice(0, n)
    .map((l) => (JSON.parse(l) as { text: string }).text);
}

/** A near duplicate: two sentences replaced and a boilerplate line added. */
function perturb(text: string, k: number): string {
  const s = text.split(/(?<=[.?!])\s+/);
  for (let j = 0; j < 2 && s.length > 4; j++) s[(k * 7 + j * 3) % s.length] = `This sentence ${k}-${j} was changed by an editor.`;
  return s.join(" ") + "\nShare this page on social media. Copyright 2024.";
}

beforeAll(async () => {
  index = new BenchmarkIndex();
  await loadBenchmarkDir(BENCH, index);
});

describe("MinHash", () => {
  it("estimates the exact Jaccard of real pairs", async () => {
    const h = await MinHasher.create(DEFAULT_MINHASH);
    const texts = realTexts(60).filter((t) => t.length > 1500);
    let err = 0;
    for (let i = 0; i < texts.length; i++) {
      const a = texts[i]!;
      const b = i % 2 ? perturb(a, i) : texts[(i + 1) % texts.length]!;
      const exact = jaccard(shingles(a, 5), shingles(b, 5));
      err += Math.abs(estimateJaccard(h.signature(a), h.signature(b)) - exact);
    }
    expect(err / texts.length).toBeLessThan(0.05);
  });
});

describe("decontamination index", () => {
  const host = "The city council met on Tuesday to discuss the new budget for parks and libraries. ";
  it("finds a planted question from every bundled benchmark, with benchmark, item and span", async () => {
    const files: string[] = [];
    (function walk(d: string) {
      for (const f of fs.readdirSync(d)) {
        const p = path.join(d, f);
        if (fs.statSync(p).isDirectory()) walk(p);
        else if (/\.(jsonl|tsv)$/.test(f)) files.push(p);
      }
    })(BENCH);
    expect(files.length).toBe(24);
    for (const f of files) {
      const q = (await readBenchmark(f)).filter((t) => ["question", "problem", "input", "informal_statement", "messages"].includes(t.field));
      const item = q.find((t) => t.text.length > 80) ?? q[0]!;
      const m = index.scan(host + item.text + " " + host);
      expect(m, f).toBeDefined();
      expect(item.text.replace(/\s+/g, "")).toContain(m!.text.replace(/\s+/g, ""));
    }
  });

  it("an answer pasted with other whitespace and case is found (GSM8K, MATH)", async () => {
    for (const f of ["gsm8k_test.jsonl", "math_test.jsonl"]) {
      const a = (await readBenchmark(path.join(BENCH, f))).find((t) => t.field === "answer" || t.field === "solution")!;
      const m = index.scan(host + a.text.toUpperCase().replace(/\s+/g, "  \n ") + host);
      expect(m, f).toMatchObject({ benchmark: f.replace(".jsonl", "") });
    }
  });

  it("short Chinese items are matched exactly as token sequences; 1–2-token answers are ignored", async () => {
    const idx = new BenchmarkIndex();
    idx.add("cmath-like", [
      { id: "1", field: "question", text: "小明有几个苹果" },
      { id: "2", field: "golden", text: "18" },
    ]);
    expect(idx.counts).toMatchObject({ short: 1, ignored: 1 });
    expect(idx.scan("今天老师问：小明有几个苹果？大家都笑了")).toMatchObject({ benchmark: "cmath-like", item: "1", kind: "exact", text: "小明有几个苹果" });
    expect(idx.scan("小明有几个梨")).toBeUndefined();
    expect(idx.scan("The answer is 18.")).toBeUndefined();
    // real short items: CMATH's "9只兔子有多少条腿？" and Gaokao MathQA's first question (3–9 tokens)
    const rabbit = (await readBenchmark(path.join(BENCH, "cmath_dev.jsonl"))).find((t) => t.text === "9只兔子有多少条腿？")!;
    expect(index.scan(`小学数学练习：${rabbit.text}请写出算式。`)).toMatchObject({ benchmark: "cmath_dev", kind: "exact", text: "9只兔子有多少条腿" });
    const gaokao = (await readBenchmark(path.join(BENCH, "gaokao_mathqa.jsonl")))[0]!;
    expect(index.scan("2021年考题：" + gaokao.text + " 答案见下页")).toMatchObject({ benchmark: "gaokao_mathqa", kind: "exact", item: gaokao.id });
  });
});

describe("cleanRound on a work store", () => {
  /** Pages with an exact duplicate (better score), two near duplicates and a contaminated page. */
  async function cleanDocs() {
    const texts = realTexts(200).filter((t) => t.length > 3000).slice(0, 20);
    const gsm = (await readBenchmark(path.join(BENCH, "gsm8k_test.jsonl")))[0]!.text;
    const docs = [
      ...texts.map((t, i) => ({ key: `orig-${i}`, text: t, score: 0.9 })),
      { key: "exact-0", text: texts[0]!.toUpperCase(), score: 0.95 }, // same normalised text, better score: it is kept
      { key: "near-1", text: perturb(texts[1]!, 1), score: 0.5 },
      { key: "near-2", text: perturb(texts[2]!, 2), score: 0.99 },
      { key: "contaminated", text: `Homework help. ${gsm} Please show your work.`, score: 0.8 },
    ];
    return { docs, gsm };
  }

  /** Stores `docs` (ids given, or assigned) as round 1's scored selection. */
  function putSelected(store: WorkStore, docs: Array<{ key: string; text: string; score: number; id?: number }>): Map<string, number> {
    store.beginFile();
    docs.forEach((d, i) =>
      store.addDoc({ ...(d.id !== undefined ? { id: d.id } : {}), docKey: d.key, url: `https://x.example/${d.key}`, urlNorm: `https://x.example/${d.key}`, host: "x.example", domain: "x.example", path: `/${d.key}`, warcFile: "w", warcOffset: i, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text: d.text, contentHash: "" }),
    );
    store.commitFile("w", { pages: docs.length, kept: docs.length, urlDups: 0, stats: {} });
    store.setRound(1, { step: "done" });
    const ids = new Map((store.db.prepare("SELECT id, doc_key FROM documents").all() as Array<{ id: number; doc_key: string }>).map((r) => [r.doc_key, r.id]));
    store.putScores(1, docs.map((d) => [ids.get(d.key)!, d.score]));
    for (const d of docs) store.db.prepare("INSERT INTO selections (round, doc_id) VALUES (1, ?)").run(ids.get(d.key));
    return ids;
  }

  it("removes exact and near duplicates (keeping the best score) and contaminated pages, recording why", async () => {
    const dir = tmpDir("mc-clean-");
    const store = new WorkStore(path.join(dir, "work.sqlite"));
    const { docs, gsm } = await cleanDocs();
    const ids = putSelected(store, docs);
    const s = await cleanRound(one(store), 1, index, DEFAULT_MINHASH, nullLogger);
    expect(s.removed).toEqual({ contaminated: 1, exact_dup: 1, near_dup: 2 });
    expect(s.kept).toBe(docs.length - 4);
    const row = (key: string) => store.db.prepare("SELECT status, dup_of, benchmark, item, span FROM clean WHERE round = 1 AND doc_id = ?").get(ids.get(key)) as { status: string; dup_of: number | null; benchmark: string | null; item: string | null; span: string | null };
    expect(row("orig-0")).toMatchObject({ status: "exact_dup", dup_of: ids.get("exact-0") });
    expect(row("exact-0").status).toBe("kept");
    expect(row("near-1")).toMatchObject({ status: "near_dup", dup_of: ids.get("orig-1") });
    expect(row("orig-2")).toMatchObject({ status: "near_dup", dup_of: ids.get("near-2") });
    expect(row("contaminated")).toMatchObject({ status: "contaminated", benchmark: "gsm8k_test", item: "1" });
    expect(gsm).toContain(row("contaminated").span!.slice(0, 20));
    expect(store.isCleaned(1)).toBe(true);
    const opts = { shardTokens: 1e9, shardDocs: 0, seed: 1, pageSize: 65536, force: false, countTokens: (t: string) => t.length };
    expect(exportRound(one(store), 1, dir, path.join(dir, "export"), opts).documents).toBe(docs.length - 4);

    // a cleaning cut short (here: the benchmark scan fails) leaves the round not cleaned, and
    // export refuses it instead of writing the few pages already marked kept
    const broken = { scan: () => { throw new Error("disk full"); }, digest: () => "broken" } as unknown as BenchmarkIndex;
    await expect(cleanRound(one(store), 1, broken, DEFAULT_MINHASH, nullLogger)).rejects.toThrow(/disk full/);
    expect(store.isCleaned(1)).toBe(false);
    // the map of the part was cut short: no key is recorded for it, so a run of tasks would map it again
    expect(store.meta(cleanMetaKey(1))).toBe("");
    expect(() => exportRound(one(store), 1, dir, path.join(dir, "export2"), opts)).toThrow(/round 1 has not been cleaned \(or its cleaning was interrupted\)/);
    store.close();
  });

  it("decides the same however the selection is split into parts: duplicates and their keepers in other parts", async () => {
    const { docs } = await cleanDocs();
    // the run's ids (file number in the high bits): file f holds pages f, f+3, …; file f is task f's
    const placed = docs.map((d, i) => ({ ...d, id: docId(i % 3, Math.floor(i / 3) + 1) }));
    const single = new WorkStore(path.join(tmpDir("mc-clean-one-"), "work.sqlite"));
    putSelected(single, placed);
    const a = await cleanRound(one(single), 1, index, DEFAULT_MINHASH, nullLogger);
    const stores = partsRun("mc-clean-parts-", 3, (part, own) => void putSelected(part, placed.filter((d) => own(d.id))));
    // every pair straddles two parts: orig-0 (file 0) and exact-0 (file 2), near-1 (0) and orig-1 (1), near-2 (1) and orig-2 (2)
    const fileOf = (k: string) => fileNoOf(placed.find((d) => d.key === k)!.id);
    for (const [x, y] of [["orig-0", "exact-0"], ["near-1", "orig-1"], ["near-2", "orig-2"]] as const) expect(fileOf(x), `${x} ${y}`).not.toBe(fileOf(y));
    const mapped: number[][] = [];
    const b = await cleanRound(stores, 1, index, DEFAULT_MINHASH, nullLogger, {
      // as the tasks do it: each part's map on its own, then the reduce here
      mapByTasks: async (key, todo) => {
        mapped.push(todo);
        for (const t of todo) await cleanMapPart(stores.parts[t]!, 1, index, DEFAULT_MINHASH, key);
      },
    });
    expect(mapped).toEqual([[0, 1, 2]]);
    expect({ ...b, seconds: {} }).toEqual({ ...a, seconds: {} });
    expect(b.removed).toEqual({ contaminated: 1, exact_dup: 1, near_dup: 2 });
    const marks = (s: WorkStore) => s.db.prepare("SELECT round, doc_id, status, dup_of, cluster, benchmark, item, field, span FROM clean ORDER BY doc_id").all();
    expect(marks(stores.coord)).toEqual(marks(single));
    expect(marks(stores.coord)).toHaveLength(docs.length);
    // a second cleaning with the same settings maps nothing again; other MinHash settings map every part again
    await cleanRound(stores, 1, index, DEFAULT_MINHASH, nullLogger, { mapByTasks: async (_k, todo) => void mapped.push(todo) });
    expect(mapped).toHaveLength(1);
    const other = { ...DEFAULT_MINHASH, bands: 10 };
    await expect(cleanRound(stores, 1, index, other, nullLogger, { mapByTasks: async (_k, todo) => void mapped.push(todo) })).rejects.toThrow(/task 0's map is missing or was computed with other settings/);
    expect(mapped[1]).toEqual([0, 1, 2]);
    expect(stores.coord.isCleaned(1)).toBe(false);
    stores.close();
    single.close();
  });

  it("shows progress between batches of 1,000 pages and stops there when interrupted, leaving the round not cleaned", async () => {
    const dir = tmpDir("mc-clean-abort-");
    const store = new WorkStore(path.join(dir, "work.sqlite"));
    const n = 2500;
    store.beginFile();
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    for (let i = 0; i < n; i++) {
      const text = `Page ${i}: ${Array.from({ length: 40 }, () => `w${rand() % 100003}`).join(" ")}.`;
      store.addDoc({ docKey: `d${i}`, url: `https://x.example/${i}`, urlNorm: `https://x.example/${i}`, host: "x.example", domain: "x.example", path: `/${i}`, warcFile: "w", warcOffset: i, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text, contentHash: "" });
    }
    store.commitFile("w", { pages: n, kept: n, urlDups: 0, stats: {} });
    store.setRound(1, { step: "done" });
    const ids = store.db.prepare("SELECT id FROM documents ORDER BY id").pluck().all() as number[];
    store.putScores(1, ids.map((id) => [id, 0.9]));
    store.db.transaction(() => ids.forEach((id) => store.db.prepare("INSERT INTO selections (round, doc_id) VALUES (1, ?)").run(id)))();
    const lines: string[] = [];
    const s = await cleanRound(one(store), 1, index, DEFAULT_MINHASH, nullLogger, { onProgress: (t) => lines.push(t) });
    expect(s.kept).toBe(n);
    expect(store.isCleaned(1)).toBe(true);
    // the map (keys, MinHash bands, benchmark matches) reports after every 1,000 pages
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["1000/2500", "2000/2500", "2500/2500"]);
    for (const l of lines) expect(l).toMatch(/^map \d+\/2500 {2}\d+ pages\/s {2}ETA (\d+s|\d+m\d\ds|-)$/);

    const ac = new AbortController();
    const seen: string[] = [];
    const run = cleanRound(one(store), 1, index, DEFAULT_MINHASH, nullLogger, {
      signal: ac.signal,
      onProgress: (t) => {
        seen.push(t);
        ac.abort(); // as SIGINT does: seen when the batch yields
      },
    });
    await expect(run).rejects.toThrow(/clean of round 1 interrupted/);
    expect(seen).toHaveLength(1);
    expect(store.isCleaned(1)).toBe(false);
    store.close();
  });

  it("mathcorpus clean --json lists removed pages and a summary", async () => {
    const dir = tmpDir("mc-cleancli-");
    const run = await runCli(["run", "--run", path.join(dir, "r"), "--max-rounds", "1", "--bucket", "20000"]);
    expect(run.code).toBe(0);
    const r = await runCli(["clean", "--run", path.join(dir, "r"), "--json"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { summary?: { selected: number; kept: number } });
    const summary = lines[lines.length - 1]!.summary!;
    expect(summary.selected).toBeGreaterThan(0);
    expect(summary.kept).toBeLessThanOrEqual(summary.selected);
    expect(r.stderr).toMatch(/clean: round 1: \d+ of \d+ selected pages kept/);

    // a benchmark of the user's own, in a folder beside a Parquet export, with its own column
    // name: an exam whose question is a passage of a selected page removes that page
    const db = new Database(path.join(dir, "r", "work.sqlite"), { readonly: true });
    const page = db.prepare("SELECT d.url, d.text FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = 1 ORDER BY d.id LIMIT 1").get() as { url: string; text: string };
    db.close();
    const mine = path.join(dir, "mine");
    fs.mkdirSync(path.join(mine, "more"), { recursive: true });
    const passage = page.text.split(/\s+/).slice(20, 60).join(" ");
    fs.writeFileSync(path.join(mine, "exam.csv"), `Nr,Stem,Key\n1,"${passage.replace(/"/g, '""')}",B\n`);
    fs.copyFileSync(path.join(FIX, "gsm8k-head.parquet"), path.join(mine, "more", "gsm8k-head.parquet"));
    const own = await runCli(["clean", "--run", path.join(dir, "r"), "--benchmark", mine, "--no-bundled-benchmarks", "--question-field", "Stem", "--answer-field", "answer", "--json"]);
    expect(own.code, own.stderr).toBe(0);
    const removed = own.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(removed.filter((x) => x.reason === "contaminated")).toEqual([expect.objectContaining({ url: page.url, benchmark: "exam", item: "1", field: "Stem" })]);
    expect(removed[removed.length - 1]!.summary).toMatchObject({ benchmarks: 2, index: { items: 9 } });
    // a folder without benchmark files, and a file of no known format, are errors naming them
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    const e1 = await runCli(["clean", "--run", path.join(dir, "r"), "--benchmark", empty]);
    expect([e1.code, e1.stderr]).toEqual([3, expect.stringContaining(`${empty}: no benchmark files in this folder`)]);
    const e2 = await runCli(["clean", "--run", path.join(dir, "r"), "--benchmark", path.join(ROOT, "README.md")]);
    expect([e2.code, e2.stderr]).toEqual([3, expect.stringContaining("README.md: not a benchmark file (JSONL, JSON, CSV, TSV or Parquet")]);
  });
});

describe("run's clean and export steps", () => {
  it("read --benchmark before crawling (a bad one fails at once); --out and --shard-tokens place and size the export; a rerun keeps them", async () => {
    const dir = tmpDir("mc-runclean-");
    const bad = await runCli(["run", "--run", path.join(dir, "r0"), "--benchmark", path.join(dir, "nope.csv")]);
    expect([bad.code, bad.stderr]).toEqual([3, `mathcorpus run: benchmark file not found: ${path.join(dir, "nope.csv")}\n`]);
    expect(fs.existsSync(path.join(dir, "r0"))).toBe(false);
    // the exam's question is a passage of a page the bundled sample selects; relative paths, from the run's folder
    const exam = path.join(dir, "exam.jsonl");
    const page = (await runCli(["extract", path.join(ROOT, "data", "crawl-sample.warc.gz"), "--jsonl"])).stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { url: string; text: string })
      .find((d) => d.url === "https://planetmath.org/completegroup")!;
    fs.writeFileSync(exam, JSON.stringify({ Problem: page.text.split(/\s+/).slice(20, 60).join(" ") }) + "\n");
    const args = ["run", "--run", "r", "--max-rounds", "1", "--bucket", "20000", "--benchmark", "exam.jsonl", "--out", "shards", "--shard-tokens", "10000", "--json"];
    const r = await runCli(args, dir);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { clean: { removed: Record<string, number> }; export: { documents: number; shards: unknown[] } };
    expect(j.clean.removed.contaminated).toBe(1);
    expect(j.export.shards.length).toBeGreaterThan(2); // ~40,000 tokens in shards of ~10,000
    expect(fs.existsSync(path.join(dir, "shards", "manifest.json"))).toBe(true);
    expect(fs.existsSync(path.join(dir, "r", "export"))).toBe(false);
    expect((await runCli(["verify", path.join(dir, "shards")])).code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "r", "config.json"), "utf8"))).toMatchObject({ benchmark: [exam], out: path.join(dir, "shards"), shardTokens: 10000 });
    // from another folder, without those flags: the same benchmarks and export
    const again = await runCli(["run", "--run", path.join(dir, "r"), "--max-rounds", "1", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/run: kept from .*config\.json: .*--benchmark.*--out.*--shard-tokens/);
    expect(JSON.parse(again.stdout)).toMatchObject({ rounds: [], clean: { removed: { contaminated: 1 } }, export: { documents: j.export.documents } });
  }, 120_000);
});

describe("benchmark files", () => {
  const jsonl = async (f: string, n: number) => {
    const all = await readBenchmark(path.join(BENCH, f));
    const ids = [...new Set(all.map((t) => t.id))].slice(0, n);
    return all.filter((t) => ids.includes(t.id));
  };
  const texts = (ts: Array<{ field: string; text: string }>) => ts.map((t) => [t.field, t.text]).sort();

  it("Parquet (snappy, zstd, gzip; list-of-struct columns), CSV with a header in any case, JSON holding an array, gzipped JSONL: the texts of the JSONL they came from", async () => {
    const gsm = await jsonl("gsm8k_test.jsonl", 8);
    expect(gsm).toHaveLength(16);
    expect(await readBenchmark(path.join(FIX, "gsm8k-head.parquet"))).toEqual(gsm);
    expect(await readBenchmark(path.join(FIX, "gsm8k-head.jsonl.gz"))).toEqual(gsm);
    expect(await readBenchmark(path.join(ROOT, "test", "fixtures", "compressed", "gsm8k-head.jsonl.zst"))).toEqual(gsm); // zstd
    const math = await jsonl("math500_test.jsonl", 6);
    expect(await readBenchmark(path.join(FIX, "math500-head.parquet"))).toEqual(math);
    // columns Problem, Solution, Answer: the same texts, numbered by row (no id column)
    const csv = await readBenchmark(path.join(FIX, "math500-head.csv"));
    expect(texts(csv)).toEqual(texts(math));
    expect(csv[0]!.id).toBe("1");
    const cmath = await jsonl("cmath_test.jsonl", 6);
    expect(texts(await readBenchmark(path.join(FIX, "cmath-head.json")))).toEqual(texts(cmath));
    const mgsm = await jsonl("mgsm_zh.jsonl", 5);
    expect(await readBenchmark(path.join(FIX, "mgsm_zh-head.parquet"))).toEqual(mgsm);
    // a folder of them: names are paths without the format's extensions
    const idx = new BenchmarkIndex();
    expect(await loadBenchmarkDir(FIX, idx)).toEqual(["cmath-head", "gsm8k-head", "gsm8k-head", "math500-head", "math500-head", "mgsm_zh-head"]);
    expect(idx.scan(`Homework: ${gsm[2]!.text} Good luck.`)).toMatchObject({ benchmark: "gsm8k-head", kind: "10-gram" });
  });

  it("JSON as an object of items keyed by id; field names in any case; answers that are numbers or lists", async () => {
    const dir = tmpDir("mc-bench-");
    const f = path.join(dir, "svamp-like.json");
    fs.writeFileSync(f, JSON.stringify({ a7: { Body: "Jack had 8 pens and Mary had 5 pens.", Question: "How many pens do they have together?", Answer: 13 }, a8: { BODY: "x", final_answer: ["$x = 2$ and $y = 3$ exactly"] } }));
    expect(await readBenchmark(f)).toEqual([
      { id: "a7", field: "question", text: "How many pens do they have together?" },
      { id: "a7", field: "body", text: "Jack had 8 pens and Mary had 5 pens." },
      { id: "a7", field: "answer", text: "13" },
      { id: "a8", field: "body", text: "x" },
      { id: "a8", field: "final_answer", text: "$x = 2$ and $y = 3$ exactly" },
    ]);
  });

  it("bad files are errors naming the file and what was wrong", async () => {
    const dir = tmpDir("mc-bench-");
    const w = (name: string, body: string) => (fs.writeFileSync(path.join(dir, name), body), path.join(dir, name));
    await expect(readBenchmark(path.join(dir, "gone.parquet"))).rejects.toThrow(`benchmark file not found: ${path.join(dir, "gone.parquet")}`);
    await expect(readBenchmark(path.join(dir, "no-such-folder"))).rejects.toThrow(`benchmark file not found: ${path.join(dir, "no-such-folder")}`);
    await expect(readBenchmark(w("q.csv", 'a,b\n1,"x\n'))).rejects.toThrow(/q\.csv: not CSV \(Quote Not Closed/);
    await expect(readBenchmark(w("cols.csv", "x,y\n1,2\n"))).rejects.toThrow(/cols\.csv: no benchmark texts \(fields looked for, in any case: question, .*; its columns: x, y\); name yours with --question-field/);
    await expect(readBenchmark(w("j.json", '{"question": "a b c"'))).rejects.toThrow(/j\.json: not JSON/);
    await expect(readBenchmark(w("l.jsonl", '{"question": "fine"}\nnot json\n'))).rejects.toThrow(/l\.jsonl:2: not JSON/);
    await expect(readBenchmark(w("p.parquet", "PAR1 but not really"))).rejects.toThrow(/p\.parquet: not a Parquet file this reader reads/);
    await expect(readBenchmark(w("z.jsonl.gz", "plain"))).rejects.toThrow(/z\.jsonl\.gz: not gzip/);
    await expect(readBenchmark(w("z.jsonl.zst", "plain"))).rejects.toThrow(/z\.jsonl\.zst: not zstd/);
  });
});
