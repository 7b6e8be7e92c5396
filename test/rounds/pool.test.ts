import path from "node:path";
import { describe, expect, it } from "vitest";
import { type RankedPool, cutoffForFprInPool, cutoffForFprInRanked } from "../../src/classify/metrics.js";
import { HIST_BINS, crawlHistogram, crawlPool } from "../../src/rounds/cutoff.js";
import { crawlNegatives, reservoirNegatives, sampleNegatives } from "../../src/rounds/negatives.js";
import { mixId } from "../../src/core/hash.js";
import { WorkStore } from "../../src/store/store.js";
import { RunStores, docId } from "../../src/store/stores.js";
import { partsRun, tmpDir } from "../helpers.js";

const cutoffForFprInPoolOf = (pool: RankedPool, pos: number[]) => cutoffForFprInRanked(pool, pos, 0.01);

/** Stored pages with round-1 scores: `ids` in `store`, scores by id. */
function putScored(store: WorkStore, ids: number[], score: (id: number) => number): void {
  store.beginFile();
  for (const id of ids) store.addDoc({ id, docKey: `k${id}`, url: `https://x.example/${id}`, urlNorm: `https://x.example/${id}`, host: "x.example", domain: "x.example", path: `/${id}`, warcFile: "w", warcOffset: id, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text: "t", contentHash: String(id) });
  store.commitFile("w", { pages: ids.length, kept: ids.length, urlDups: 0, stats: {} });
  store.putScores(1, ids.map((id) => [id, score(id)]));
}

describe("the calibration pool read from the stores", () => {
  it("places the cut-off exactly where the whole pool in memory does, leaving out promoted pages, copies and training negatives, over one part or three", () => {
    let seed = 7;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) / 2 ** 24;
    };
    // 3 files of 2,000 pages, 3 % math; ties (many pages at exactly 0 and 1.0) as a confident model gives them
    const ids = [0, 1, 2].flatMap((f) => Array.from({ length: 2000 }, (_, k) => docId(f, k + 1)));
    const scores = new Map(ids.map((id) => {
      const r = rand();
      return [id, r < 0.03 ? (r < 0.01 ? 1 : 0.6 + 13 * r) : r < 0.2 ? 0 : 0.5 * rand()];
    }));
    const pos = Array.from({ length: 300 }, () => (rand() < 0.3 ? 0.99999 : 0.6 + 0.4 * rand()));
    const promoted = ids.filter((_, i) => i % 97 === 0);
    const copies = ids.filter((_, i) => i % 89 === 1);
    const negTrain = ids.filter((_, i) => i % 53 === 2);
    const out = new Set([...promoted, ...copies, ...negTrain]);
    const expected = cutoffForFprInPool(ids.filter((id) => !out.has(id)).map((id) => scores.get(id)!), pos, 0.01)!;
    expect(expected.mathShare).toBeGreaterThan(0.01);
    // a cut-off inside the scores, not at the top: the walk went down through the math and its ties
    expect(expected.cutoff).toBeLessThan(0.6);
    expect(expected.cutoff).toBeGreaterThan(0);
    const mark = (s: WorkStore, own: (id: number) => boolean) => {
      for (const id of promoted.filter(own)) s.db.prepare("INSERT INTO promoted (doc_id, round, prefix, reason) VALUES (?, 1, 'p', 'r')").run(id);
      for (const id of copies.filter(own)) s.db.prepare("INSERT INTO copies (doc_id, of) VALUES (?, ?)").run(id, ids[0]);
    };
    // one store
    const single = new WorkStore(path.join(tmpDir("mc-pool-one-"), "work.sqlite"));
    putScored(single, ids, (id) => scores.get(id)!);
    mark(single, () => true);
    const one = RunStores.from(single, path.dirname(single.file), undefined);
    const p1 = crawlPool(one, 1, negTrain);
    expect(p1.size).toBe(ids.length - out.size);
    expect([...p1.ranked()]).toEqual(ids.filter((id) => !out.has(id)).map((id) => scores.get(id)!).sort((a, b) => b - a));
    const viaOne = cutoffForFprInPoolOf(p1, pos);
    expect(viaOne).toEqual(expected);
    one.close();
    // three parts, file f in task f
    const three = partsRun("mc-pool-parts-", 3, (part, own) => {
      putScored(part, ids.filter(own), (id) => scores.get(id)!);
      mark(part, own);
    });
    expect(cutoffForFprInPoolOf(crawlPool(three, 1, negTrain), pos)).toEqual(expected);
    // the crawl's histogram (every scored page), counted in SQL, as JavaScript bins the scores
    const bins = new Array<number>(HIST_BINS).fill(0);
    for (const x of scores.values()) bins[Math.min(HIST_BINS - 1, Math.floor(x * HIST_BINS))]!++;
    expect(crawlHistogram(three, 1)).toEqual(bins);
    expect(bins[HIST_BINS - 1]).toBeGreaterThan(0);
    three.close();
  });
});

describe("the negative sample", () => {
  it("is the k eligible pages lowest by a hash of id and seed, the same over one part or three; keys missing (an older store) or made with another seed are filled first", () => {
    const ids = [0, 1, 2].flatMap((f) => Array.from({ length: 300 }, (_, k) => docId(f, k + 1)));
    const promoted = new Set(ids.filter((_, i) => i % 7 === 0));
    const copies = new Set(ids.filter((_, i) => i % 11 === 3));
    const expected = (seed: number, k: number) =>
      ids
        .filter((id) => !promoted.has(id) && !copies.has(id))
        .sort((a, b) => mixId(a, seed) - mixId(b, seed) || a - b)
        .slice(0, k)
        .sort((a, b) => a - b);
    const mark = (s: WorkStore, own: (id: number) => boolean) => {
      for (const id of [...promoted].filter(own)) s.db.prepare("INSERT INTO promoted (doc_id, round, prefix, reason) VALUES (?, 1, 'p', 'r')").run(id);
      for (const id of [...copies].filter(own)) s.db.prepare("INSERT INTO copies (doc_id, of) VALUES (?, ?)").run(id, ids[1]);
    };
    // one store, its keys filled as a crawl fills them
    const single = new WorkStore(path.join(tmpDir("mc-sample-one-"), "work.sqlite"));
    putScored(single, ids, () => 0.5);
    mark(single, () => true);
    expect(single.sampleKeys(1)).toBe(ids.length);
    expect(single.sampleKeys(1)).toBe(0); // done: nothing to fill
    const one = RunStores.from(single, path.dirname(single.file), undefined);
    const a = sampleNegatives(one, 40, 1).map((d) => d.doc);
    expect(a).toEqual(expected(1, 40));
    // spread over the files, not the first ones
    expect(new Set(a.map((id) => Math.floor(id / 2 ** 32))).size).toBe(3);
    // another --seed: the keys are made again, and the sample changes
    const b = sampleNegatives(one, 40, 2).map((d) => d.doc);
    expect(b).toEqual(expected(2, 40));
    expect(b).not.toEqual(a);
    one.close();
    // three parts from before the keys (NULL, no meta): filled when the sample is drawn; the same sample
    const three = partsRun("mc-sample-parts-", 3, (part, own) => {
      putScored(part, ids.filter(own), () => 0.5);
      mark(part, own);
    });
    expect(three.sum("SELECT count(*) FROM documents WHERE sample_key IS NULL")).toBe(ids.length);
    expect(sampleNegatives(three, 40, 1).map((d) => d.doc)).toEqual(a);
    expect(three.sum("SELECT count(*) FROM documents WHERE sample_key IS NULL")).toBe(0);
    // more than there are: every eligible page
    expect(sampleNegatives(three, 10_000, 1)).toHaveLength(ids.length - new Set([...promoted, ...copies]).size);
    // a round that trains records how it drew its sample; a round trained before that record
    // (by an earlier version) and resumed after its training keeps the reservoir sample it drew
    const old = reservoirNegatives(three, 40, 1).map((d) => d.doc);
    expect(old).not.toEqual(a);
    expect(old.every((id) => !promoted.has(id) && !copies.has(id))).toBe(true);
    expect(crawlNegatives(three, 1, 40, 1, false).map((d) => d.doc)).toEqual(old);
    expect(three.coord.meta("sample:1")).toBeUndefined();
    expect(crawlNegatives(three, 2, 40, 1, true).map((d) => d.doc)).toEqual(a);
    expect(three.coord.meta("sample:2")).toBe("sample_key");
    expect(crawlNegatives(three, 2, 40, 1, false).map((d) => d.doc)).toEqual(a);
    three.close();
  });
});
