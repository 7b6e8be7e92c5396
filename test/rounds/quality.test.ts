import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { fitCalibrator, probability, rawFor } from "../../src/classify/calibrate.js";
import { dropMathLike, recallCutoff } from "../../src/classify/pu.js";
import type { TextDoc } from "../../src/classify/seeds.js";
import { isHeldOut, rng } from "../../src/classify/split.js";
import { DEFAULT_ARGS, PAPER_SCALE, parseTrainLoss, sizedArgs } from "../../src/classify/train.js";
import { markCopies } from "../../src/rounds/copies.js";
import { discoverDomains, promote } from "../../src/rounds/domains.js";
import type { RoundConfig } from "../../src/rounds/round.js";
import { WorkStore } from "../../src/store/store.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";
import { RunStores } from "../../src/store/stores.js";

const sha1 = (t: string) => crypto.createHash("sha1").update(t).digest("hex");

function storeWith(pages: Array<{ host: string; path: string; text: string }>): { stores: RunStores; store: WorkStore } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mc-quality-"));
  const store = new WorkStore(path.join(dir, "work.sqlite"));
  pages.forEach((p, i) => {
    const url = `https://${p.host}${p.path}`;
    store.addDoc({ docKey: `w@${i}`, url, urlNorm: url, host: p.host, domain: p.host, path: p.path, warcFile: "w", warcOffset: i, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text: p.text, contentHash: sha1(p.text) });
  });
  return { stores: RunStores.from(store, dir, undefined), store };
}

describe("exact copies count once", () => {
  it("a false positive copied under many URLs does not make its host math-related, nor is a copy promoted", () => {
    // lyrics.example: 12 distinct pages; one (a false positive) is also stored under 9 more URLs
    const pages = [
      ...Array.from({ length: 12 }, (_, i) => ({ host: "lyrics.example", path: `/song/${i}`, text: `lyrics of song ${i}` })),
      ...Array.from({ length: 9 }, (_, i) => ({ host: "lyrics.example", path: `/song/0?view=${i}`, text: "lyrics of song 0" })),
      ...Array.from({ length: 4 }, (_, i) => ({ host: "math.example", path: `/thm/${i}`, text: `theorem ${i}` })),
    ];
    const { stores, store } = storeWith(pages);
    expect(markCopies(stores)).toBe(9);
    expect(markCopies(stores)).toBe(9); // recomputed, not added to
    const ids = store.db.prepare("SELECT id, path, host FROM documents ORDER BY id").all() as Array<{ id: number; path: string; host: string }>;
    const copyOf = store.db.prepare("SELECT of FROM copies WHERE doc_id = ?").pluck();
    const first = ids.find((d) => d.path === "/song/0")!.id;
    for (const d of ids.filter((x) => x.path.startsWith("/song/0?"))) expect(copyOf.get(d.id)).toBe(first);
    // the round selected the false positive (every copy: same text, same score) and math.example's pages
    const selected = ids.filter((d) => d.path.startsWith("/song/0") || d.host === "math.example").map((d) => d.id);
    const ins = store.db.prepare("INSERT INTO selections (round, doc_id) VALUES (1, ?)");
    for (const id of selected) ins.run(id);
    const cfg = { domainShare: 0.1, minDomainPages: 3 } as RoundConfig;
    expect(discoverDomains(stores, 1, cfg)).toBe(1);
    const rows = store.db.prepare("SELECT host, pages, selected, math_related FROM domain_stats WHERE round = 1 ORDER BY host").all();
    // counted with its copies the host would be 10/21 selected (48 %): math-related
    expect(rows).toEqual([
      { host: "lyrics.example", pages: 12, selected: 1, math_related: 0 },
      { host: "math.example", pages: 4, selected: 4, math_related: 1 },
    ]);
    // a prefix accepted on lyrics.example promotes its unselected distinct pages, not the copies
    store.db.prepare("INSERT INTO annotations (prefix, decision, who, at, round, note) VALUES ('lyrics.example/song/', 'accept', 't', '', 1, '')").run();
    expect(promote(stores, 1)).toBe(11);
    store.close();
  });
});

describe("training sized to the data", () => {
  it("scales epochs and lr below the paper's scale, keeps what is given, and the paper's settings from PAPER_SCALE lines", () => {
    const auto = { ...DEFAULT_ARGS, epoch: 0, lr: 0 };
    expect(sizedArgs(auto, 2_700)).toMatchObject({ epoch: 5, lr: 0.5, sized: ["epoch", "lr"] });
    const mid = sizedArgs(auto, 20_000);
    expect(mid.epoch).toBe(5);
    expect(mid.lr).toBeGreaterThan(0.1);
    expect(mid.lr).toBeLessThan(0.5);
    expect(sizedArgs(auto, PAPER_SCALE)).toMatchObject({ epoch: 3, lr: 0.1 });
    expect(sizedArgs({ ...auto, epoch: 25 }, 2_700)).toMatchObject({ epoch: 25, lr: 0.5, sized: ["lr"] });
    expect(sizedArgs(DEFAULT_ARGS, 2_700)).toMatchObject({ epoch: 3, lr: 0.1, sized: [] });
  });

  it("reads fastText's last training loss from its progress output, as the shipped binary and later ones print it", () => {
    // the shipped 2018 binary, as it prints it
    expect(parseTrainLoss("Number of labels: 2\n\rProgress: 100.0% words/sec/thread:  128471 lr:  0.000000 loss:  0.315534 ETA:   0h 0m\n")).toBe(0.315534);
    expect(parseTrainLoss("\rProgress:  50.0% words/sec/thread:  100 lr:  0.05 avg.loss:  0.412 ETA:   0h 0m 1s\rProgress: 100.0% words/sec/thread:  100 lr:  0.000000 avg.loss:  0.053121 ETA:   0h 0m 0s")).toBe(0.053121);
    expect(parseTrainLoss("Read 0M words")).toBeUndefined();
  });
});

describe("calibrated probabilities", () => {
  // raw scores of an underfit model: positives around 0.7, negatives around 0.45
  const r = rng(7);
  const noisy = (m: number) => Math.min(0.999, Math.max(0.001, m + (r() - 0.5) * 0.2));
  const pos = Array.from({ length: 200 }, () => noisy(0.7));
  const neg = Array.from({ length: 200 }, () => noisy(0.45));

  it("maps raw scores monotonically to P(math), weighted by the crawl's math share", () => {
    const even = fitCalibrator(pos, neg, 0.5, "test");
    const rare = fitCalibrator(pos, neg, 0.02, "test");
    expect(even.method).toBe("platt");
    expect(even.a).toBeGreaterThan(1); // scores squeezed into 0.35–0.8 spread out
    // a page scoring like the positives is math at even odds, not in a crawl that is 2 % math
    expect(probability(even, 0.7)).toBeGreaterThan(0.9);
    expect(probability(rare, 0.7)).toBeLessThan(probability(even, 0.7));
    expect(probability(even, 0.45)).toBeLessThan(0.1);
    for (let x = 0.05; x < 1; x += 0.05) expect(probability(even, x + 0.01)).toBeGreaterThanOrEqual(probability(even, x));
    for (let x = 0.5; x < 0.65; x += 0.05) expect(probability(even, x + 0.01)).toBeGreaterThan(probability(even, x));
    // a probability threshold is a raw cut-off
    for (const p of [0.1, 0.5, 0.9]) expect(probability(even, rawFor(even, p))).toBeCloseTo(p, 6);
  });

  it("leaves scores as they are with too few held-out pages, and survives a perfect separation", () => {
    const none = fitCalibrator(pos.slice(0, 5), neg, 0.5, "test");
    expect(none.method).toBe("none");
    expect(probability(none, 0.42)).toBe(0.42);
    expect(rawFor(none, 0.5)).toBe(0.5);
    const sep = fitCalibrator(Array(50).fill(0.99999), Array(50).fill(0.00001), 0.1, "test");
    expect(Number.isFinite(sep.a) && Number.isFinite(sep.b)).toBe(true);
    expect(probability(sep, 0.99999)).toBeGreaterThan(0.9);
    expect(probability(sep, 0.00001)).toBeLessThan(0.1);
  });
});

describe("crawl negatives as unlabeled (cross-fitting)", () => {
  it("leaves out the sampled pages that both folds' models score like the positives", async () => {
    const doc = (id: string, text: string): TextDoc => ({ id, url: "", text });
    const posTrain = Array.from({ length: 60 }, (_, i) => doc(`p${i}`, `math ${i}`));
    const posHeld = Array.from({ length: 40 }, (_, i) => doc(`h${i}`, `math held ${i}`));
    // 100 sampled pages, 30 of them math; 20 held-out sampled pages, 5 of them math
    const neg = Array.from({ length: 100 }, (_, i) => doc(`n${i}`, i < 30 ? `math crawl ${i}` : `web ${i}`));
    const held = Array.from({ length: 20 }, (_, i) => doc(`m${i}`, i < 5 ? `math other ${i}` : `web other ${i}`));
    const trained: Array<{ name: string; pos: number; neg: number }> = [];
    // a "model": math texts score 0.9 (one held-out positive 0.2), the rest 0.1
    const score = async (texts: string[]) => texts.map((t) => (t === "math held 0" ? 0.2 : t.startsWith("math") ? 0.9 : 0.1));
    const r = await dropMathLike(posTrain, posHeld, neg, held, {
      recall: 0.95,
      passes: 2,
      train: async (name, pos, negs) => {
        trained.push({ name, pos: pos.length, neg: negs.length });
        return { score, close: async () => {} };
      },
    });
    expect(r.removed.map((d) => d.id).sort()).toEqual(neg.slice(0, 30).map((d) => d.id).sort());
    expect(r.kept).toHaveLength(70);
    expect(r.heldRemoved).toHaveLength(5);
    expect(r.heldKept.every((d) => d.text.startsWith("web"))).toBe(true);
    expect(r.cutoffs).toEqual([0.9, 0.9, 0.9, 0.9]);
    // each fold's model trains on the other fold less what is already taken for math: the first
    // on all of fold 1, the second on fold 0 less its math, the second pass on the 70 kept
    expect(trained.map((t) => t.name)).toEqual(["fold-0", "fold-1", "fold-0", "fold-1"]);
    const inFold1 = (d: TextDoc) => isHeldOut(`pu:${d.id}`, 0.5);
    const fold0 = neg.filter((d) => !inFold1(d));
    expect(trained[0]!.neg).toBe(100 - fold0.length);
    expect(trained[1]!.neg).toBe(fold0.filter((d) => d.text.startsWith("web")).length);
    expect(trained[2]!.neg + trained[3]!.neg).toBe(70);
    expect(recallCutoff([0.9, 0.8, 0.2, 0.7], 0.75)).toBe(0.7);
    // math rare among the sampled pages (2 of 100): no second pass
    trained.length = 0;
    const rare = Array.from({ length: 100 }, (_, i) => doc(`r${i}`, i < 2 ? `math crawl ${i}` : `web ${i}`));
    const r2 = await dropMathLike(posTrain, posHeld, rare, [], {
      recall: 0.95,
      passes: 2,
      train: async (name, pos, negs) => {
        trained.push({ name, pos: pos.length, neg: negs.length });
        return { score, close: async () => {} };
      },
    });
    expect(r2.removed.map((d) => d.id).sort()).toEqual(["r0", "r1"]);
    expect(trained.map((t) => t.name)).toEqual(["fold-0", "fold-1"]);
  });
});

describe("round --negatives: a fixed pool to train against", () => {
  const CRAWL = path.join(ROOT, "data", "crawl-sample.warc.gz");
  type S = { negatives: { sampled: number; train: number; taken_for_math: number }; selected: number; documents: number };

  it("samples the pool instead of the crawl; a pool of nothing readable is an error, a pool of math is warned about", async () => {
    const d = tmpDir("mc-negpool-");
    // the sample crawl's extracted pages: PlanetMath's are a math pool, the rest a web pool
    const pages = (await runCli(["extract", CRAWL, "--jsonl"])).stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { id: string; url: string; text: string });
    const math = pages.filter((p) => p.url.includes("planetmath.org"));
    const web = pages.filter((p) => !p.url.includes("planetmath.org"));
    expect(math.length).toBeGreaterThan(40);
    const jsonl = (docs: typeof pages) => docs.map((p, i) => JSON.stringify({ id: `pool-${i}`, text: p.text })).join("\n") + "\n";
    fs.writeFileSync(path.join(d, "web.jsonl"), jsonl(web));
    fs.writeFileSync(path.join(d, "math.jsonl"), jsonl([...math, ...math.map((p) => ({ ...p, text: `${p.text}\nSee also the entries above.` }))]));
    fs.writeFileSync(path.join(d, "empty.jsonl"), "");
    const common = ["--sources", CRAWL, "--bucket", "20000", "--deterministic", "--json"];

    const good = await runCli(["round", "--run", path.join(d, "run-web"), "--negatives", path.join(d, "web.jsonl"), ...common]);
    expect(good.code, good.stderr).toBe(0);
    const g = (JSON.parse(good.stdout) as { rounds: S[] }).rounds[0]!;
    // every pool document is sampled (fewer than the 1,501 seeds); the crawl's pages are not
    expect(g.negatives.sampled).toBe(web.length);
    expect(g.negatives.train).toBeGreaterThan(0);
    expect(g.selected).toBeGreaterThan(0);
    expect(good.stderr).not.toMatch(/look(s)? mostly math|pool of mathematics/);
    // kept for the next invocation, by absolute path
    expect(JSON.parse(fs.readFileSync(path.join(d, "run-web", "config.json"), "utf8")).negatives).toEqual([path.join(d, "web.jsonl")]);

    const empty = await runCli(["round", "--run", path.join(d, "run-empty"), "--negatives", path.join(d, "empty.jsonl"), ...common]);
    expect(empty.code).toBe(3);
    expect(empty.stderr).toContain(`--negatives ${path.join(d, "empty.jsonl")}: no document could be read or kept from it: nothing to train against`);
    const missing = await runCli(["round", "--run", path.join(d, "run-missing"), "--negatives", path.join(d, "nope.jsonl"), ...common]);
    expect([2, 3]).toContain(missing.code);
    expect(missing.stderr).toContain("nope.jsonl");
    expect(missing.stderr).not.toMatch(/at .*\.js:\d+/);

    const mathPool = await runCli(["round", "--run", path.join(d, "run-math"), "--negatives", path.join(d, "math.jsonl"), ...common]);
    const m = mathPool.code === 0 ? (JSON.parse(mathPool.stdout) as { rounds: S[] }).rounds[0]! : undefined;
    // either the pool is warned about (most of it scores like the seeds), or nothing is left to train against: never silent
    if (m) {
      expect(m.negatives.taken_for_math / m.negatives.sampled).toBeGreaterThan(0.5);
      expect(mathPool.stderr).toMatch(/warning: round 1: \d+ of the \d+ pages sampled from --negatives score like the seeds and are not used as negatives: is it a pool of mathematics\?/);
    } else {
      expect(mathPool.code).toBe(3);
      expect(mathPool.stderr).toMatch(/no negative training documents.*score like the seeds/);
    }
  }, 300_000);
});
