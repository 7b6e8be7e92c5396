import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { runFastText } from "../../src/classify/fasttext.js";
import { Scorer } from "../../src/classify/scorer.js";
import { sha256File, trainModel, writeTrainingFile } from "../../src/classify/train.js";
import { DEFAULT_ARGS } from "../../src/classify/train.js";
import { type TextDoc, seedFiles, seedName } from "../../src/classify/seeds.js";
import { ROOT, fixture, runCli, tmpDir } from "../helpers.js";

const SEEDS = path.join(ROOT, "seeds");
const CRAWL = path.join(ROOT, "data", "crawl-sample.warc.gz");
const SMALL = { ...DEFAULT_ARGS, bucket: 20_000 };

let dir: string;
let model: string;
let sidecar: Record<string, unknown> & { metrics: { roc_auc: number; positives: number; negatives: number } };

beforeAll(async () => {
  dir = tmpDir("mc-train-");
  model = path.join(dir, "m", "model.bin");
  const r = await runCli(["train", "--seeds", SEEDS, "--negatives", CRAWL, "--out", model, "--bucket", "20000", "--json"]);
  if (r.code !== 0) throw new Error(r.stderr);
  sidecar = JSON.parse(r.stdout);
}, 120_000);

describe("mathcorpus train", () => {
  it("writes the model and a sidecar with arguments, build, seed hash, counts and held-out metrics", () => {
    expect(fs.existsSync(model)).toBe(true);
    expect(fs.existsSync(path.join(dir, "m", "model.vec"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "m", "model.train.txt"))).toBe(false);
    const side = JSON.parse(fs.readFileSync(path.join(dir, "m", "model.json"), "utf8"));
    expect(side).toEqual(sidecar);
    // epochs and lr sized to the ~2,000 training lines (classify/train sizedArgs), recorded as trained
    expect(side.args).toMatchObject({ dim: 256, lr: 0.5, wordNgrams: 3, minCount: 3, epoch: 5, bucket: 20000, sized: ["epoch", "lr"] });
    expect(side.fasttext).toMatch(/^fasttext\.js@1\.1\.4 binary sha256:[0-9a-f]{16}$/);
    expect(side.seeds.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(side.seeds.train + side.seeds.held_out).toBe(1501);
    expect(side.seeds.held_out).toBeGreaterThan(100);
    expect(side.negatives.train + side.negatives.held_out).toBeGreaterThan(600);
    expect(side.model.sha256).toBe(sha256File(model));
    expect(side.metrics.positives).toBe(side.seeds.held_out);
    // the bundled crawl is 13 % PlanetMath, so its held-out "negatives" hold math pages (11 of
    // 60), which a good model scores among the seeds: a ranker perfect on math would reach only
    // ~0.91 ROC-AUC against these labels (0.89 measured; a model that learnt nothing, 0.5)
    expect(side.metrics.roc_auc).toBeGreaterThan(0.85);
    expect(side.cutoff_1pct_fpr).toBeGreaterThan(0);
  });

  it("the held-out split does not move with the working folder: WARC pages by URL, id-less JSONL records and HTML files by file name", async () => {
    const d = tmpDir("mc-trainsplit-");
    // negatives: the bundled crawl, its pages' text as id-less JSONL records, and one HTML file
    const pages = (await runCli(["extract", CRAWL, "--jsonl"])).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { text: string });
    fs.mkdirSync(path.join(d, "x", "y"), { recursive: true });
    fs.writeFileSync(path.join(d, "x", "y", "neg.jsonl"), pages.slice(0, 300).map((p) => JSON.stringify({ text: p.text })).join("\n") + "\n");
    fs.copyFileSync(fixture("extract", "readability-wikipedia-3.html"), path.join(d, "x", "y", "page.html"));
    fs.copyFileSync(CRAWL, path.join(d, "x", "y", "crawl.warc.gz"));
    const train = (cwd: string, rel: string, out: string) =>
      runCli(["train", "--seeds", SEEDS, "--negatives", ["neg.jsonl", "page.html", "crawl.warc.gz"].map((f) => path.join(rel, f)).join(","), "--neg-count", "200", "--out", out, "--bucket", "20000", "--deterministic", "--json"], cwd);
    const a = await train(d, path.join("x", "y"), path.join(d, "a.bin"));
    const b = await train(path.join(d, "x", "y"), ".", path.join(d, "b.bin"));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [sa, sb] = [a, b].map((r) => JSON.parse(r.stdout) as { negatives: { train: number; held_out: number }; metrics: { roc_auc: number } });
    expect(sa!.negatives.held_out).toBeGreaterThan(20);
    expect([sb!.negatives.train, sb!.negatives.held_out]).toEqual([sa!.negatives.train, sa!.negatives.held_out]);
    expect(sb!.metrics.roc_auc).toBe(sa!.metrics.roc_auc);
    expect(fs.readFileSync(path.join(d, "b.bin")).equals(fs.readFileSync(path.join(d, "a.bin")))).toBe(true);
  }, 120_000);

  it("--deterministic gives a byte-identical model on rerun", async () => {
    const pos: TextDoc[] = Array.from({ length: 300 }, (_, i) => ({ id: `p${i}`, url: "", text: `Let $x_${i}$ be an integer; then $x^2 \\ge 0$ and \\frac{a}{b} holds for lemma ${i}.` }));
    const neg: TextDoc[] = Array.from({ length: 300 }, (_, i) => ({ id: `n${i}`, url: "", text: `The shop opens at ${i % 12} o'clock and sells coffee, tea and cake ${i}.` }));
    const a = await trainModel(pos, neg, path.join(dir, "d1.bin"), { args: SMALL, threads: 2, deterministic: true, seed: 5 });
    const b = await trainModel([...pos].reverse(), neg, path.join(dir, "d2.bin"), { args: SMALL, threads: 2, deterministic: true, seed: 5 });
    expect(a.threads).toBe(1);
    expect(sha256File(a.model)).toBe(sha256File(b.model));
  });

  it("skipping the word-vector file leaves the model byte-identical to the binary's own complete run", async () => {
    const pos: TextDoc[] = Array.from({ length: 200 }, (_, i) => ({ id: `p${i}`, url: "", text: `Suppose $f(x) = x^${i}$; its derivative is ${i}x^{${i - 1}} by the power rule ${i}.` }));
    const neg: TextDoc[] = Array.from({ length: 200 }, (_, i) => ({ id: `n${i}`, url: "", text: `Our hotel has ${i} rooms near the beach, free parking and breakfast ${i}.` }));
    const ours = await trainModel(pos, neg, path.join(dir, "v1.bin"), { args: SMALL, threads: 2, deterministic: true, seed: 9 });
    expect(fs.existsSync(path.join(dir, "v1.vec"))).toBe(false);
    const input = path.join(dir, "v2.train.txt");
    await writeTrainingFile(input, pos, neg, 9);
    const a = SMALL;
    await runFastText(["supervised", "-input", input, "-output", path.join(dir, "v2"), "-dim", String(a.dim), "-lr", String(a.lr), "-wordNgrams", String(a.wordNgrams), "-minCount", String(a.minCount), "-epoch", String(a.epoch), "-bucket", String(a.bucket), "-loss", a.loss, "-thread", "1", "-verbose", "0"]);
    expect(fs.statSync(path.join(dir, "v2.vec")).size).toBeGreaterThan(0); // the plain run wrote its vectors
    expect(sha256File(ours.model)).toBe(sha256File(path.join(dir, "v2.bin")));
  });

  it("leaves no core file behind where core dumps are on (the binary stops with an exception)", async () => {
    const cwd = tmpDir("mc-core-");
    const script = path.join(cwd, "train.mjs");
    const train = path.join(ROOT, "dist", "src", "classify", "train.js");
    fs.writeFileSync(
      script,
      `import { trainModel, DEFAULT_ARGS } from ${JSON.stringify(train)};
const d = (l, n) => Array.from({ length: 100 }, (_, i) => ({ id: l + i, url: "", text: (l === "p" ? "let x be a prime number " : "the shop sells cake ") + i }));
const r = await trainModel(d("p"), d("n"), "m.bin", { args: { ...DEFAULT_ARGS, dim: 16, bucket: 1000 }, threads: 1, deterministic: true, seed: 1 });
console.log(r.bytes);`,
    );
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync("/bin/sh", ["-c", `ulimit -c unlimited 2>/dev/null; exec "${process.execPath}" train.mjs`], { cwd, encoding: "utf8" });
    expect(Number(out.trim())).toBeGreaterThan(1000);
    expect(fs.readdirSync(cwd).filter((f) => f.startsWith("core"))).toEqual([]);
    expect(fs.readdirSync(cwd).sort()).toEqual(["m.bin", "train.mjs"]);
  });

  it("a real training failure is still an error", async () => {
    const pos: TextDoc[] = [{ id: "p", url: "", text: "x" }];
    await expect(trainModel(pos, pos, path.join(dir, "bad.bin"), { args: { ...SMALL, dim: -5 }, threads: 1, deterministic: true, seed: 1 })).rejects.toThrow(/fastText supervised failed/);
  });
});

describe("scoring", () => {
  it("mathcorpus score prints P(math) per document; math scores above web text", async () => {
    const f = path.join(dir, "docs.jsonl");
    fs.writeFileSync(
      f,
      [
        { id: "math", text: "Let $G$ be a finite group and $H \\le G$ a subgroup. By Lagrange's theorem $|H|$ divides $|G|$, so the index $[G:H] = |G|/|H|$ is an integer." },
        { id: "web", text: "Our store is open from Monday to Saturday. Free shipping on orders over fifty dollars, and returns are accepted within thirty days." },
      ]
        .map((x) => JSON.stringify(x))
        .join("\n") + "\n",
    );
    const r = await runCli(["score", "--model", model, f, "--threads", "0"]);
    expect(r.code).toBe(0);
    const out = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; score: number });
    expect(out.map((x) => x.id)).toEqual(["math", "web"]);
    expect(out[0]!.score).toBeGreaterThan(out[1]!.score);
    expect(out.every((x) => x.score >= 0 && x.score <= 1)).toBe(true);
    // the fastText binary gives the same scores (to its print precision)
    const b = await runCli(["score", "--model", model, f, "--threads", "0", "--engine", "binary", "--processes", "1"]);
    expect(b.code).toBe(0);
    const viaBinary = b.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; score: number });
    viaBinary.forEach((x, i) => expect(Math.abs(x.score - out[i]!.score)).toBeLessThan(2e-4));
    const bad = await runCli(["score", "--model", model, f, "--engine", "fast"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--engine expects auto or binary, got fast/);
  });

  it("a scoring process that dies is restarted and the batch retried; results are unchanged", async () => {
    const scorer = new Scorer(model, 1);
    try {
      const texts = Array.from({ length: 500 }, (_, i) => `Theorem ${i}: $a^2+b^2=c^2$ for a right triangle.`);
      const before = await scorer.score(texts);
      const pending = scorer.score(texts);
      scorer.killAll();
      expect(await pending).toEqual(before);
    } finally {
      await scorer.close();
    }
  });

  it("refuses a file that is not a model, and a model without the math/other labels", async () => {
    const junk = path.join(dir, "junk.bin");
    fs.writeFileSync(junk, Buffer.from("this is not a fastText model at all"));
    expect(() => new Scorer(junk)).toThrow(/not a fastText model/);
    expect(() => new Scorer(path.join(dir, "missing.bin"))).toThrow(/model file not found/);
    const train = path.join(dir, "lang.txt");
    fs.writeFileSync(train, Array.from({ length: 50 }, (_, i) => `__label__en hello world ${i}\n__label__fr bonjour le monde ${i}`).join("\n") + "\n");
    await runFastText(["supervised", "-input", train, "-output", path.join(dir, "lang"), "-bucket", "1000", "-dim", "10", "-thread", "1"]);
    const s = new Scorer(path.join(dir, "lang.bin"), 1);
    try {
      await expect(s.score(["hello"])).rejects.toThrow(/does not predict __label__math\/__label__other/);
    } finally {
      await s.close();
    }
    // for the commands these are unusable inputs (exit 3), not internal errors (exit 1)
    for (const [m, msg] of [
      [junk, /is not a fastText model/],
      [path.join(dir, "missing.bin"), /model file not found/],
      [path.join(dir, "lang.bin"), /does not predict/],
    ] as const) {
      const r = await runCli(["score", "--model", m, fixture("warc", "whirlwind.CC-MAIN-2024-22.warc.gz")]);
      expect(r.code, m).toBe(3);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr).not.toMatch(/internal error/);
    }
    const e = await runCli(["eval", "--model", path.join(dir, "missing.bin"), "--seeds", SEEDS, "--negatives", CRAWL]);
    expect(e.code).toBe(3);
    expect(e.stderr).toMatch(/model file not found/);
  });
});

describe("mathcorpus eval", () => {
  it("reports held-out metrics as a table, JSON and an SVG PR curve", async () => {
    const report = path.join(dir, "reports");
    const r = await runCli(["eval", "--model", model, "--seeds", SEEDS, "--negatives", CRAWL, "--report", report, "--json"]);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as { roc_auc: number; positives: number; negatives: number; at_1pct_fpr: { recall: number; fpr: number }; thresholds: unknown[]; cutoff: number };
    expect(m.positives).toBe(sidecar.metrics.positives);
    expect(m.roc_auc).toBeCloseTo(sidecar.metrics.roc_auc, 6);
    expect(m.at_1pct_fpr.fpr).toBeLessThanOrEqual(0.01);
    expect(m.thresholds.length).toBeGreaterThan(5);
    expect(m.cutoff).toBe(sidecar.cutoff_1pct_fpr);
    expect(fs.readFileSync(path.join(report, "model.pr.svg"), "utf8")).toMatch(/^<svg[\s\S]*<path d="M[\s\S]*<\/svg>/);
    expect(JSON.parse(fs.readFileSync(path.join(report, "model.eval.json"), "utf8")).roc_auc).toBe(m.roc_auc);
    const table = await runCli(["eval", "--model", model, "--seeds", SEEDS, "--negatives", CRAWL, "--report", report]);
    expect(table.stdout).toMatch(/held-out evaluation of model\.bin: \d+ positives, \d+ negatives; ROC-AUC 0\.\d{4}/);
    expect(table.stdout).toMatch(/at 1% FPR/);
  });
});

describe("where seeds are read from", () => {
  it("a single file, or a folder tree as Hugging Face lays datasets out (data/*.parquet; hidden folders skipped); id-less rows are named by their path in the folder; a negatives folder's documents are used whole", async () => {
    const hf = path.join(tmpDir("mc-seedtree-"), "open-web-math");
    fs.mkdirSync(path.join(hf, "data"), { recursive: true });
    fs.mkdirSync(path.join(hf, ".cache", "huggingface"), { recursive: true });
    fs.copyFileSync(fixture("seeds", "owm-like.parquet"), path.join(hf, "data", "train-00000-of-00001.parquet"));
    fs.copyFileSync(fixture("seeds", "owm-like.jsonl.gz"), path.join(hf, ".cache", "huggingface", "x.jsonl.gz"));
    fs.writeFileSync(path.join(hf, "README.md"), "# a dataset card\n");
    fs.writeFileSync(path.join(hf, "dataset_info.json"), "{}\n");
    expect(seedFiles(hf)).toEqual([path.join(hf, "data", "train-00000-of-00001.parquet")]);
    expect(seedName(hf, seedFiles(hf)[0]!)).toBe(path.join("data", "train-00000-of-00001.parquet"));
    const one = fixture("seeds", "owm-like.jsonl.zst");
    expect(seedFiles(one)).toEqual([one]);
    expect(seedName(one, one)).toBe("owm-like.jsonl.zst");
    expect(() => seedFiles(path.join(hf, "README.md"))).toThrow(/seeds must be a JSON-lines .* or Parquet file or a folder of them: /);
    // through train: the tree's 20 rows are the positives, its file named by its path in the folder
    const r = await runCli(["train", "--seeds", hf, "--negatives", CRAWL, "--out", path.join(path.dirname(hf), "m.bin"), "--bucket", "20000", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const seeds = (JSON.parse(r.stdout) as { seeds: { files: string[]; train: number; held_out: number } }).seeds;
    expect(seeds.files).toEqual([path.join("data", "train-00000-of-00001.parquet")]);
    expect(seeds.train + seeds.held_out).toBe(20);
    // a folder among the negatives: the documents in it are used whole (20), the crawl sampled (as many as seeds: 20)
    const neg = path.join(path.dirname(hf), "neg", "sub");
    fs.mkdirSync(neg, { recursive: true });
    fs.copyFileSync(fixture("seeds", "owm-like.jsonl.gz"), path.join(neg, "docs.jsonl.gz"));
    const n = await runCli(["train", "--seeds", one, "--negatives", `${path.dirname(neg)},${CRAWL}`, "--out", path.join(path.dirname(hf), "n.bin"), "--bucket", "20000", "--json"]);
    expect(n.code, n.stderr).toBe(0);
    const negs = (JSON.parse(n.stdout) as { negatives: { train: number; held_out: number } }).negatives;
    expect(negs.train + negs.held_out).toBe(40);
  });
});

describe("bad seeds are clear errors", () => {
  it("missing folder, empty folder, seeds without text", async () => {
    const missing = await runCli(["train", "--seeds", path.join(dir, "nope"), "--negatives", CRAWL, "--out", path.join(dir, "x.bin")]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/seeds not found: /);
    const empty = path.join(dir, "empty");
    fs.mkdirSync(empty);
    const e = await runCli(["train", "--seeds", empty, "--negatives", CRAWL, "--out", path.join(dir, "x.bin")]);
    expect(e.code).toBe(3);
    expect(e.stderr).toMatch(/holds no JSON-lines \(\.jsonl, \.ndjson, \.json\.gz; \.gz\/\.zst\) or Parquet files/);
    const blank = path.join(dir, "blank");
    fs.mkdirSync(blank);
    fs.writeFileSync(path.join(blank, "s.jsonl.gz"), zlib.gzipSync(JSON.stringify({ id: "a", text: "" }) + "\n" + JSON.stringify({ id: "b", html: "<html></html>" }) + "\n"));
    const b = await runCli(["train", "--seeds", blank, "--negatives", CRAWL, "--out", path.join(dir, "x.bin")]);
    expect(b.code).toBe(3);
    expect(b.stderr).toMatch(/no seed has text \(2 read, dropped: too_short=2\)/);
  });
});
