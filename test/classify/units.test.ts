import { describe, expect, it } from "vitest";
import { fastTextLine, tokens } from "../../src/classify/features.js";
import { cutoffForFpr, evaluate, prCurve, rocAuc } from "../../src/classify/metrics.js";
import { mathProbability } from "../../src/classify/scorer.js";
import { Reservoir, isHeldOut, shuffle } from "../../src/classify/split.js";

describe("fastText features", () => {
  it("lower-cases, keeps LaTeX commands whole, separates punctuation, marks formula tokens", () => {
    expect(fastTextLine("Let $x^2 \\le \\frac{a}{b}$ hold, then QED.")).toBe("let $ m:x m:^ m:2 \\le \\frac m:{ m:a m:} m:{ m:b m:} $ hold , then qed .");
    expect(fastTextLine("Display $$\\sum_i i$$ and \\[ y \\] and \\( z \\) end")).toBe("display $$ \\sum m:_ m:i m:i $$ and \\[ m:y \\] and \\( m:z \\) end");
  });

  it("splits CJK into characters, also when glued to Latin letters", () => {
    expect(tokens("妈咪买了3盒x茶叶")).toEqual(["妈", "咪", "买", "了", "3", "盒", "x", "茶", "叶"]);
    expect(tokens("ジャネットのアヒル")).toHaveLength(9);
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
