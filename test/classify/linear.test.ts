import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runFastText } from "../../src/classify/fasttext.js";
import { fastTextLine } from "../../src/classify/features.js";
import { featureHashes, packInterleaved, tokenHashes, unpackFeatures } from "../../src/classify/hashes.js";
import { LinearModel } from "../../src/classify/linear.js";
import { LinearScorer, Scorer, openScorer } from "../../src/classify/scorer.js";
import { trainModel } from "../../src/classify/train.js";
import { DEFAULT_ARGS } from "../../src/classify/train.js";
import type { TextDoc } from "../../src/classify/seeds.js";
import { ROOT, tmpDir } from "../helpers.js";

const FIX = path.join(ROOT, "test", "fixtures", "extract");
const fixtureTexts = fs
  .readdirSync(FIX)
  .filter((f) => f.endsWith(".txt"))
  .map((f) => fs.readFileSync(path.join(FIX, f), "utf8"));

// real texts in several scripts (Japanese, Chinese, Cyrillic pages of the fixtures), cut into pieces
function pieces(): TextDoc[] {
  const out: TextDoc[] = [];
  fixtureTexts.forEach((t, i) => {
    for (let k = 0; k * 600 < t.length && k < 40; k++) out.push({ id: `f${i}-${k}`, url: "", text: t.slice(k * 600, k * 600 + 900) });
  });
  return out;
}

let dir: string;
let model: string;

beforeAll(async () => {
  dir = tmpDir("mc-linear-");
  const docs = pieces();
  const pos = docs.filter((d) => /\$|\\[a-z]/.test(d.text));
  const neg = docs.filter((d) => !/\$|\\[a-z]/.test(d.text));
  // deterministic (one thread): the same model every run, so the spread checked below is fixed
  model = (await trainModel(pos, neg, path.join(dir, "m.bin"), { args: { ...DEFAULT_ARGS, bucket: 50_000, minCount: 1, epoch: 25, lr: 0.5 }, threads: 1, deterministic: true, seed: 3 })).model;
}, 120_000);

const probes = () => [
  ...pieces().map((d) => d.text),
  "",
  "   ",
  "中文数学：设 $x$ 为实数，则 x中 ü éè 𝔸𝔹 \ud800 тест",
  "$$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$ and the word unseenwordxyz",
  "a".repeat(50_000),
  Array.from({ length: 5000 }, (_, i) => `w${i}`).join(" "),
];

describe("linear scoring of fastText models", () => {
  it("agrees with the fastText binary's predict-prob on real texts in several scripts", async () => {
    const lm = LinearModel.load(model);
    expect(typeof lm).not.toBe("string");
    const texts = probes();
    const binary = new Scorer(model, 1);
    try {
      const want = await binary.score(texts);
      const got = texts.map((t) => (lm as LinearModel).scoreText(t));
      // the binary prints P + 1e-5 to six digits and sums in float32
      for (let i = 0; i < texts.length; i++) expect(Math.abs(got[i]! - want[i]!), `text ${i}`).toBeLessThan(2e-4);
      // the texts are scored across the range (agreement on constant scores would prove nothing)
      const spread = Math.max(...want) - Math.min(...want);
      expect(spread).toBeGreaterThan(0.5);
    } finally {
      await binary.close();
    }
  });

  it("reads the input matrix wherever it starts in the file (every alignment)", async () => {
    // one extra dictionary word of 5–8 letters moves the matrix by 15–18 bytes: all four residues mod 4
    const docs = pieces().slice(0, 120);
    const pos = docs.filter((_, i) => i % 2 === 0);
    const neg = docs.filter((_, i) => i % 2 === 1);
    const residues = new Set<number>();
    for (let len = 1; len <= 4; len++) {
      const extra = { id: "zz", url: "", text: `${"q".repeat(len + 4)} marker` };
      const file = (await trainModel([...pos, extra], neg, path.join(dir, `a${len}.bin`), { args: { ...DEFAULT_ARGS, bucket: 2000, minCount: 1, epoch: 5 }, threads: 1, deterministic: true, seed: 1 })).model;
      residues.add((fs.statSync(file).size - 17) % 4); // the matrix start's residue (everything after it is whole floats)
      const lm = LinearModel.load(file) as LinearModel;
      const binary = new Scorer(file, 1);
      try {
        const texts = docs.slice(0, 30).map((d) => d.text);
        const want = await binary.score(texts);
        texts.forEach((t, i) => expect(Math.abs(lm.scoreText(t) - want[i]!)).toBeLessThan(2e-4));
      } finally {
        await binary.close();
      }
    }
    expect(residues.size).toBe(4);
  });

  it("stored feature hashes score exactly as the text does", () => {
    const lm = LinearModel.load(model) as LinearModel;
    for (const t of probes()) expect(lm.scoreHashes(featureHashes(t))).toBe(lm.scoreText(t));
  });

  it("hashes tokens as fastText does: FNV-1a over UTF-8 with sign-extended bytes", () => {
    const h = new Uint32Array(2);
    tokenHashes("", h, 0);
    expect(h[0]).toBe(2166136261);
    tokenHashes("a", h, 0);
    expect(h[0]).toBe(Math.imul(2166136261 ^ 0x61, 16777619) >>> 0);
    // "é" is C3 A9: each byte enters as 0xFFFFFFxx
    tokenHashes("é", h, 0);
    let want = 2166136261;
    for (const b of [0xc3, 0xa9]) want = Math.imul(want ^ (b | 0xffffff00), 16777619) >>> 0;
    expect(h[0]).toBe(want);
  });

  it("stores a page's features as its distinct tokens' hashes plus one index per token, and reads the format before (a pair per token) as the same page", () => {
    const text = "Let $x$ be x and let x be $x + x$";
    const toks = [...fastTextLine(text).split(" "), "</s>"];
    const distinct = [...new Set(toks)];
    const f = featureHashes(text);
    expect([f[0], f[1]]).toEqual([toks.length, distinct.length]);
    // the distinct tokens' hashes in order of first appearance, then the tokens' indices (uint16)
    const h = new Uint32Array(2);
    distinct.forEach((t, k) => {
      tokenHashes(t, h, 0);
      expect([f[2 + 2 * k], f[3 + 2 * k]]).toEqual([h[0], h[1]]);
    });
    const idx = new Uint16Array(f.buffer, f.byteOffset + 4 * (2 + 2 * distinct.length), toks.length);
    expect([...idx]).toEqual(toks.map((t) => distinct.indexOf(t)));
    expect(f.length).toBe(2 + 2 * distinct.length + Math.ceil(toks.length / 2));
    // the interleaved format: one pair per token, in order
    const pairs = unpackFeatures(f);
    expect(pairs.length).toBe(2 * toks.length);
    toks.forEach((t, i) => {
      tokenHashes(t, h, 0);
      expect([pairs[2 * i], pairs[2 * i + 1]]).toEqual([h[0], h[1]]);
    });
    expect(packInterleaved(pairs)).toEqual(f);
    // both formats score the same as the text, on every probe
    const lm = LinearModel.load(model) as LinearModel;
    for (const t of probes()) {
      const p = featureHashes(t);
      expect(lm.scoreHashes(packInterleaved(unpackFeatures(p)))).toBe(lm.scoreText(t));
      expect(packInterleaved(unpackFeatures(p))).toEqual(p);
    }
    // an empty page is its end-of-line token alone
    expect([...featureHashes("").subarray(0, 2)]).toEqual([1, 1]);
  });

  it("models it cannot compute exactly go to the binary, with the reason", async () => {
    const train = path.join(dir, "hs.txt");
    fs.writeFileSync(train, Array.from({ length: 60 }, (_, i) => `__label__math let x be ${i}\n__label__other buy now ${i}`).join("\n") + "\n");
    await runFastText(["supervised", "-input", train, "-output", path.join(dir, "hs"), "-bucket", "1000", "-dim", "10", "-thread", "1", "-loss", "hs"]);
    await runFastText(["supervised", "-input", train, "-output", path.join(dir, "sub"), "-bucket", "1000", "-dim", "10", "-thread", "1", "-minn", "2", "-maxn", "4"]);
    const three = path.join(dir, "three.txt");
    fs.writeFileSync(three, Array.from({ length: 60 }, (_, i) => `__label__math let x be ${i}\n__label__other buy now ${i}\n__label__third hello ${i}`).join("\n") + "\n");
    await runFastText(["supervised", "-input", three, "-output", path.join(dir, "three"), "-bucket", "1000", "-dim", "10", "-thread", "1"]);
    expect(LinearModel.load(path.join(dir, "three.bin"))).toBe("3 labels (the softmax of two is computed here)");
    const why: string[] = [];
    const a = openScorer(path.join(dir, "hs.bin"), 1, (w) => why.push(w));
    const b = openScorer(path.join(dir, "sub.bin"), 1, (w) => why.push(w));
    const c = openScorer(model, 1, (w) => why.push(w));
    const d = openScorer(model, 1, (w) => why.push(w), "binary");
    try {
      expect([a.engine, b.engine, c.engine, d.engine]).toEqual(["fasttext-binary", "fasttext-binary", "linear", "fasttext-binary"]);
      expect(why).toEqual(["loss 1 (only softmax is computed here)", "subword features (maxn > 0)", "--engine binary"]);
      expect(c).toBeInstanceOf(LinearScorer);
      const [p] = await a.score(["let x be 3"]);
      expect(p).toBeGreaterThan(0.5);
    } finally {
      await Promise.all([a.close(), b.close(), c.close(), d.close()]);
    }
  });

  it("refuses a truncated model file clearly", () => {
    const cut = path.join(dir, "cut.bin");
    fs.writeFileSync(cut, fs.readFileSync(model).subarray(0, 100_000));
    expect(() => LinearModel.load(cut)).toThrow(/cut\.bin is not a readable fastText model/);
    const lang = path.join(dir, "lang.txt");
    fs.writeFileSync(lang, Array.from({ length: 50 }, (_, i) => `__label__en hello world ${i}\n__label__fr bonjour le monde ${i}`).join("\n") + "\n");
    return runFastText(["supervised", "-input", lang, "-output", path.join(dir, "lang"), "-bucket", "1000", "-dim", "10", "-thread", "1"]).then(() => {
      expect(() => LinearModel.load(path.join(dir, "lang.bin"))).toThrow(/does not predict __label__math\/__label__other/);
    });
  });
});
