import { type TextDoc, splitKey } from "./seeds.js";
import { isHeldOut } from "./split.js";

/**
 * Negatives sampled from a crawl are unlabeled, not "not math": on a crawl of known math sites a
 * quarter of them may be mathematics, and a model trained against them learns to score math low
 * (measured: a 25 %-math crawl selected 39 % of its math pages; with more epochs, 8 %). This is
 * positive-unlabeled learning's problem, met here by cross-fitting: the sampled pages are split
 * in two folds; a model trained on the positives against one fold scores the other, which it
 * never saw, and the held-out positives. A sampled page scoring at least what `recall` of the
 * held-out positives score is taken for mathematics and left out of the negatives.
 */
export interface PuOptions {
  /** Share of held-out positives scoring at or above the removal cut-off (the rounds use PU_RECALL, 0.98). */
  recall: number;
  /** Trains a model on (positives, negatives) under a name; returns a scorer of texts. */
  train: (name: string, pos: TextDoc[], neg: TextDoc[]) => Promise<{ score: (texts: string[]) => Promise<number[]>; close: () => Promise<void> }>;
}

export interface PuResult<T> {
  /** Sampled training negatives kept (in their order). */
  kept: T[];
  /** Sampled pages taken for mathematics. */
  removed: T[];
  /** Held-out sampled pages kept / taken for mathematics. */
  heldKept: T[];
  heldRemoved: T[];
  /** The removal cut-off of each fold's model. */
  cutoffs: number[];
}

/** Share of the sample the first pass must take for math for a second pass to run. */
export const SECOND_PASS_SHARE = 0.05;

/** Fewest held-out positives and sampled pages for the cross-fit to mean anything. */
export const PU_MIN_POSITIVES = 20;
export const PU_MIN_NEGATIVES = 40;

/** The score at or above which `recall` of `scores` lie. */
export function recallCutoff(scores: number[], recall: number): number {
  const s = [...scores].sort((a, b) => b - a);
  const k = Math.max(0, Math.min(s.length - 1, Math.ceil(recall * s.length) - 1));
  return s[k] ?? 1;
}

/**
 * Cross-fits two models and removes the sampled pages (training and held-out) that score like
 * the positives. `posTrain` trains both models; `posHeld` sets each one's cut-off; `held` (the
 * held-out sampled pages) is scored by the first fold's model, which trained on neither. With
 * `passes` 2, the models are trained again against what the first pass kept (a quarter of math
 * among the negatives weakens the first models: on a 25 %-math crawl they found ~80 % of it) and
 * a page either pass takes for math is removed. The second pass runs only when the first took
 * at least SECOND_PASS_SHARE of the sample.
 */
export async function dropMathLike<T extends TextDoc>(posTrain: TextDoc[], posHeld: TextDoc[], neg: T[], held: T[], opts: PuOptions & { passes?: number }): Promise<PuResult<T>> {
  const fold = (d: TextDoc) => (isHeldOut(`pu:${splitKey(d)}`, 0.5) ? 1 : 0);
  const folds = [neg.filter((d) => fold(d) === 0), neg.filter((d) => fold(d) === 1)];
  const removedSet = new Set<T>();
  const heldRemoved = new Set<T>();
  const cutoffs: number[] = [];
  for (let pass = 0; pass < (opts.passes ?? 1); pass++) {
    // a second pass only where the first found math common: a few per cent among the negatives
    // does not weaken the first models (two small trainings saved on a crawl of 2 % math)
    if (pass > 0 && removedSet.size < SECOND_PASS_SHARE * neg.length) break;
    for (const f of [0, 1]) {
      // a fold taken wholly for math (a pool of math) leaves nothing to train the other's model against
      const against = folds[1 - f]!.filter((d) => !removedSet.has(d));
      if (against.length === 0) continue;
      const model = await opts.train(`fold-${f}`, posTrain, against);
      try {
        const cutoff = recallCutoff(await model.score(posHeld.map((d) => d.text)), opts.recall);
        cutoffs.push(cutoff);
        const scores = await model.score(folds[f]!.map((d) => d.text));
        folds[f]!.forEach((d, i) => {
          if (scores[i]! >= cutoff) removedSet.add(d);
        });
        if (f === 0 && held.length > 0) {
          const hs = await model.score(held.map((d) => d.text));
          held.forEach((d, i) => {
            if (hs[i]! >= cutoff) heldRemoved.add(d);
          });
        }
      } finally {
        await model.close();
      }
    }
  }
  return {
    kept: neg.filter((d) => !removedSet.has(d)),
    removed: neg.filter((d) => removedSet.has(d)),
    heldKept: held.filter((d) => !heldRemoved.has(d)),
    heldRemoved: held.filter((d) => heldRemoved.has(d)),
    cutoffs,
  };
}
