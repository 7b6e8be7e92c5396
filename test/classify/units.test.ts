import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { fastTextLine, tokens } from "../../src/classify/features.js";
import { cutoffForFpr, cutoffForFprInPool, evaluate, prCurve, rocAuc } from "../../src/classify/metrics.js";
import { mathProbability } from "../../src/classify/scorer.js";
import { Reservoir, isHeldOut, shuffle } from "../../src/classify/split.js";
import { parseTrainProgress, trainProgressLines } from "../../src/classify/train.js";
import { fixture } from "../helpers.js";

describe("fastText features", () => {
  it("lower-cases, keeps LaTeX commands whole, separates punctuation, marks formula tokens", () => {
    expect(fastTextLine("Let $x^2 \\le \\frac{a}{b}$ hold, then QED.")).toBe("let $ m:x m:^ m:2 \\le \\frac m:{ m:a m:} m:{ m:b m:} $ hold , then qed .");
    expect(fastTextLine("Display $$\\sum_i i$$ and \\[ y \\] and \\( z \\) end")).toBe("display $$ \\sum m:_ m:i m:i $$ and \\[ m:y \\] and \\( m:z \\) end");
  });

  it("splits CJK into characters, also when glued to Latin letters", () => {
    expect(tokens("妈咪买了3盒x茶叶")).toEqual(["妈", "咪", "买", "了", "3", "盒", "x", "茶", "叶"]);
    expect(tokens("ジャネットのアヒル")).toHaveLength(9);
  });

  it("the scanner gives exactly the tokens of the regular expression it replaced", () => {
    const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
    const TOKEN = /\\[a-z]+|\\.|\$\$|[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu;
    const reference = (text: string, max = 4000): string[] => {
      const out: string[] = [];
      const lower = (text.length > max * 12 ? text.slice(0, max * 12) : text).toLowerCase();
      TOKEN.lastIndex = 0;
      let m: RegExpExecArray | null;
      while (out.length < max && (m = TOKEN.exec(lower)) !== null) {
        const t = m[0];
        if (t.length > 1 && CJK.test(t)) {
          for (const piece of t.split(/([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])/u)) if (piece) out.push(piece);
        } else out.push(t);
      }
      return out.slice(0, max);
    };
    const texts = [
      "Let $x^2 \\le \\frac{a}{b}$ hold, QED. \\中 \\\n \\ \\é \\\u2028 \\𝔸 x\\",
      "İstanbul ΣΑΣ Straße ǅ 𝔸𝔹𝟘 x⺀y 々〆 ヴ ー・ 한국어ㄱ\u302e 𠀀𠀁 \ud800 \udc00x \u0301a\u0301 ½ ٣٤ ⅷ",
      "\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u0085\u200b \t\v\f\r\n\u0000\u007f\u0001",
      "$$ $ $$$ \\$ \\$$ a$$b",
      "x".repeat(70_000),
      "ab中cd 中x x中 3盒x茶",
    ];
    // real pages: the extraction fixtures (Japanese, Chinese, Russian, math) and random code points
    for (const f of fs.readdirSync(fixture("extract")).filter((x) => x.endsWith(".txt"))) texts.push(fs.readFileSync(fixture("extract", f), "utf8"));
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
    const pool = [0x20, 0x41, 0x5c, 0x24, 0x7b, 0xe9, 0x301, 0x3b1, 0x416, 0x5d0, 0x627, 0x663, 0x915, 0x2e80, 0x3005, 0x3042, 0x30a2, 0x30fc, 0x4e2d, 0xac00, 0xd800, 0xdc00, 0x1d538, 0x20000, 0x1f600, 0x2028, 0xa0];
    for (let k = 0; k < 200; k++) {
      let t = "";
      for (let c = 0; c < 60; c++) t += String.fromCodePoint(pool[Math.floor(rnd() * pool.length)]!);
      texts.push(t);
    }
    for (const t of texts) {
      expect(tokens(t)).toEqual(reference(t));
      expect(tokens(t, 7)).toEqual(reference(t, 7));
    }
  });

  it("cuts a document at the token limit", () => {
    expect(tokens("a ".repeat(10_000), 4000)).toHaveLength(4000);
  });
});

describe("held-out split and sampling", () => {
  it("the split depends on the id only and holds about the asked share", () => {
    const ids = Array.from({ length: 20_000 }, (_, i) => `doc-${i}`);
    const held = ids.filter((id) => isHeldOut(id, 0.1));
    expect(held.length / ids.length).toBeGreaterThan(0.09);
    expect(held.length / ids.length).toBeLessThan(0.11);
    // adding documents never moves one across
    const more = [...ids, ...Array.from({ length: 5000 }, (_, i) => `new-${i}`)];
    expect(more.filter((id) => isHeldOut(id, 0.1)).filter((id) => id.startsWith("doc-"))).toEqual(held);
  });

  it("the reservoir is deterministic for a seed and uniform over the stream", () => {
    const run = (seed: number) => {
      const r = new Reservoir<number>(100, seed);
      for (let i = 0; i < 10_000; i++) r.offer(i);
      return r.items;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
    const firstHalf = Array.from({ length: 200 }, (_, s) => run(s).filter((x) => x < 5000).length).reduce((a, b) => a + b, 0) / 200;
    expect(firstHalf).toBeGreaterThan(45);
    expect(firstHalf).toBeLessThan(55);
    expect(shuffle([1, 2, 3, 4, 5], 3)).toEqual(shuffle([1, 2, 3, 4, 5], 3));
  });
});

describe("metrics", () => {
  it("ROC-AUC counts ordered pairs (ties half)", () => {
    expect(rocAuc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(rocAuc([0.1], [0.9])).toBe(0);
    expect(rocAuc([0.5, 0.9], [0.5, 0.1])).toBe(0.875);
  });

  it("the 1% FPR cut-off lets at most 1% of negatives through", () => {
    const neg = Array.from({ length: 1000 }, (_, i) => i / 1000);
    const c = cutoffForFpr(neg, 0.01);
    expect(neg.filter((s) => s >= c).length).toBeLessThanOrEqual(10);
    expect(neg.filter((s) => s >= c).length).toBeGreaterThanOrEqual(9);
  });

  it("average precision and recall at cut-offs", () => {
    expect(prCurve([0.9, 0.8], [0.1]).ap).toBe(1);
    const m = evaluate([0.9, 0.8, 0.3], [0.5, 0.1, 0.05, 0.02], 0.6);
    expect(m.atCutoff).toMatchObject({ recall: 2 / 3, precision: 1, fpr: 0 });
    expect(m.positives).toBe(3);
    expect(m.negatives).toBe(4);
  });

  it("P(math) uses the better-resolved label and clamps", () => {
    expect(mathProbability("__label__math 1.00003 __label__other 2.3e-05")).toBeCloseTo(1 - 2.3e-5, 9);
    expect(mathProbability("__label__other 0.9 __label__math 0.1")).toBeCloseTo(0.1, 9);
    expect(mathProbability("__label__en 0.9")).toBeUndefined();
  });
});

describe("calibration on a crawl that holds math", () => {
  it("cutoffForFprInPool lets through the asked share of the non-math pages, where the plain cut-off rises into the math", () => {
    let seed = 3;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) / 2 ** 24;
    };
    // a crawl of 10,000 pages, 2 % math: non-math scores in [0, 0.5), math like the positives in [0.6, 1)
    const nonMath = Array.from({ length: 9800 }, () => 0.5 * rand());
    const math = Array.from({ length: 200 }, () => 0.6 + 0.4 * rand());
    const pos = Array.from({ length: 500 }, () => 0.6 + 0.4 * rand());
    const pool = [...nonMath, ...math];
    const plain = cutoffForFpr(pool, 0.01);
    expect(plain).toBeGreaterThan(0.6); // 1 % of the pool is 100 pages: half of the math
    const r = cutoffForFprInPool(pool, pos, 0.01)!;
    expect(r.mathShare).toBeGreaterThan(0.015);
    expect(r.mathShare).toBeLessThan(0.025);
    // the non-math pages let through: about 1 % of them (π is an estimate: within half of it)
    const through = nonMath.filter((x) => x >= r.cutoff).length / nonMath.length;
    expect(through).toBeGreaterThan(0.005);
    expect(through).toBeLessThanOrEqual(0.015);
    expect(math.every((x) => x >= r.cutoff)).toBe(true);
    // too few scores to estimate anything: the caller falls back to the plain cut-off
    expect(cutoffForFprInPool(pool.slice(0, 40), pos, 0.01)).toBeUndefined();
    expect(cutoffForFprInPool(pool, pos.slice(0, 10), 0.01)).toBeUndefined();
  });
});

describe("fastText's training progress", () => {
  it("reads the last report of a -verbose 2 chunk (as the shipped binary prints it)", () => {
    const chunk = "\rProgress: 41.7% words/sec/thread: 1243111 lr:  0.058300 loss:  0.123400 ETA:   0h 3m\rProgress: 42.1% words/sec/thread: 1240327 lr:  0.057900 loss:  0.120000 ETA:   1h 5m";
    expect(parseTrainProgress(chunk)).toEqual({ percent: 42.1, eta: "1h05m" });
    expect(parseTrainProgress("\rProgress: 100.0% words/sec/thread: 1240327 lr:  0.000000 loss:  0.009444 ETA:   0h 0m")).toEqual({ percent: 100, eta: "<1m" });
    expect(parseTrainProgress("Progress:  7.5% words/sec/thread: 9 lr: 0.1 loss: 0.6 ETA:   0h12m")).toEqual({ percent: 7.5, eta: "12m" });
    expect(parseTrainProgress("\rRead 3M words\nNumber of words:  37586\nNumber of labels: 2\n")).toBeUndefined();
    const lines: string[] = [];
    const feed = trainProgressLines((t) => lines.push(t));
    feed("\rRead 3M words\n");
    feed(chunk);
    expect(lines).toEqual(["train 42.1%  ETA 1h05m"]);
  });
});
