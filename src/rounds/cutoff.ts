import { POOL_MIN_PAGES, POOL_MIN_POSITIVES, type RankedPool, cutoffForFpr, cutoffForFprInRanked } from "../classify/metrics.js";
import { mergeSorted } from "../core/merge.js";
import type { RunStores } from "../store/stores.js";

export interface Calibration {
  cutoff: number;
  /** How it was placed, for the round summary (`cutoff_rule`). */
  rule: string;
  /** Why it could not be placed at the rate asked, for the user; undefined when it could. */
  warning?: string;
  /** The crawl's math share as the mixture estimate put it, when it could. */
  mathShare?: number;
}

/** What the calibration is placed on (scores of the round's model) and what it came from. */
export interface CalibrationInputs {
  fpr: number;
  /** Every stored page but the training negatives, promoted pages and exact copies (unlabeled: math and not), read from the top. */
  pool: RankedPool;
  /** Held-out positives (seeds, promoted pages). */
  posScores: number[];
  /** Held-out sampled pages. */
  negScores: number[];
  seeds: number;
  documents: number;
  trainedOn: { positives: number; negatives: number };
}

const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;

/**
 * The round's calibrated cut-off: at most `fpr` of the crawl's non-math pages, allowing for the
 * math among them (classify/metrics cutoffForFprInRanked); with too few pages or held-out seeds
 * for that, at most `fpr` of the held-out sampled pages. A rate of fpr needs 1/fpr of those
 * before one may score above the cut-off: with fewer (a small test crawl, or few seeds, as
 * negatives are sampled as many as the positives) it is only "above all of them", or 0.5 with
 * none, and the rule and the warning say so.
 */
export function calibrateCutoff(c: CalibrationInputs): Calibration {
  const inPool = cutoffForFprInRanked(c.pool, c.posScores, c.fpr);
  const pct = `${+(c.fpr * 100).toFixed(6)}%`;
  if (inPool) return { cutoff: inPool.cutoff, mathShare: inPool.mathShare, rule: `calibrated: at most ${pct} of non-math pages (the crawl's math share estimated at ${(100 * inPool.mathShare).toFixed(1)}%)` };
  const cutoff = cutoffForFpr(c.negScores, c.fpr);
  const needed = c.fpr > 0 ? Math.ceil(1 / c.fpr) : 1; // --fpr 0: above all of them is what was asked
  const held = c.negScores.length;
  if (held >= needed) return { cutoff, rule: `calibrated: at most ${pct} of held-out negatives` };
  const rule = held === 0 ? `calibrated: none for at most ${pct}, no held-out negatives (0.5)` : `calibrated: above all ${held} held-out negatives (too few for at most ${pct}: ${needed} needed)`;
  // which of the two the mixture estimate lacked: held-out seeds or the crawl's pages
  const fewSeeds = c.posScores.length < POOL_MIN_POSITIVES;
  const lacking = fewSeeds
    ? `${n(c.posScores.length, "held-out positive")} (${POOL_MIN_POSITIVES} needed to estimate the crawl's math share): ${n(c.seeds, "seed")} ${c.seeds === 1 ? "is" : "are"} too few, and as many negatives are sampled`
    : `${n(c.pool.size, "unlabeled page")} (${POOL_MIN_PAGES} needed to estimate its math share): the crawl's ${n(c.documents, "stored page")} ${c.documents === 1 ? "is" : "are"} too few`;
  const warning = `the cut-off cannot be calibrated to --fpr ${c.fpr}: ${n(held, "held-out negative")} (${needed} needed) and ${lacking}; the model learned math from ${n(c.trainedOn.positives, "page")} and what is not math from ${n(c.trainedOn.negatives, "page")}. ${fewSeeds ? "Add seeds" : "Crawl more pages"}, or select with --token-budget TOKENS or --threshold SCORE`;
  return { cutoff, rule, warning };
}

/** Score histograms (reports/round-N.eval.json, `eval --run`): 20 bins of width 0.05. */
export const HIST_BINS = 20;
const bin = (score: number) => Math.min(HIST_BINS - 1, Math.max(0, Math.floor(score * HIST_BINS)));
export function histogram(scores: number[]): number[] {
  const h = new Array<number>(HIST_BINS).fill(0);
  for (const x of scores) h[bin(x)]!++;
  return h;
}

/** SQL condition: the scored page `s` is neither promoted nor an exact copy. */
const unlabeled = "NOT EXISTS (SELECT 1 FROM promoted p WHERE p.doc_id = s.doc_id) AND NOT EXISTS (SELECT 1 FROM copies c WHERE c.doc_id = s.doc_id)";

/**
 * The calibration pool of round `round`: the scored pages but promoted ones, exact copies and
 * the training negatives `negTrain`, counted in SQL and read from the top through each part's
 * ranked index (merged): the coordinator never holds every score.
 */
export function crawlPool(stores: RunStores, round: number, negTrain: number[]): RankedPool {
  const scoreOf = new Map(stores.parts.map((p) => [p, p.db.prepare(`SELECT score FROM scores s WHERE s.round = ? AND s.doc_id = ? AND ${unlabeled}`).pluck()]));
  const negScores = negTrain.map((id) => scoreOf.get(stores.partOf(id))!.get(round, id) as number | undefined).filter((x): x is number => x !== undefined);
  const negIds = new Set(negTrain);
  return {
    size: stores.sum(`SELECT count(*) FROM scores s WHERE s.round = ? AND ${unlabeled}`, round) - negScores.length,
    atLeast: (t) => stores.sum(`SELECT count(*) FROM scores s WHERE s.round = ? AND s.score >= ? AND ${unlabeled}`, round, t) - negScores.filter((x) => x >= t).length,
    ranked: function* () {
      const streams = stores.parts.map((p) => p.db.prepare(`SELECT s.doc_id AS id, s.score FROM scores s WHERE s.round = ? AND ${unlabeled} ORDER BY s.score DESC, s.doc_id`).iterate(round) as Iterable<{ id: number; score: number }>);
      for (const r of mergeSorted(streams, (a, b) => a.score > b.score || (a.score === b.score && a.id < b.id))) if (!negIds.has(r.id)) yield r.score;
    },
  };
}

/** Round `round`'s scores of every stored page in HIST_BINS bins, counted in SQL. */
export function crawlHistogram(stores: RunStores, round: number): number[] {
  const h = new Array<number>(HIST_BINS).fill(0);
  for (const p of stores.parts) {
    const rows = p.db.prepare("SELECT min(?, max(0, CAST(score * ? AS INTEGER))) AS b, count(*) AS n FROM scores WHERE round = ? GROUP BY b").all(HIST_BINS - 1, HIST_BINS, round) as Array<{ b: number; n: number }>;
    for (const r of rows) h[r.b]! += r.n;
  }
  return h;
}
