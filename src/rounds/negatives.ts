import fs from "node:fs";
import path from "node:path";
import { PU_MIN_NEGATIVES, PU_MIN_POSITIVES, dropMathLike } from "../classify/pu.js";
import { openScorer } from "../classify/scorer.js";
import { type TextDoc, splitKey } from "../classify/seeds.js";
import { Reservoir } from "../classify/split.js";
import { notCopy } from "./copies.js";
import { trainModel } from "../classify/train.js";
import { mergeSorted } from "../core/merge.js";
import type { RunStores } from "../store/stores.js";
import type { RoundConfig, RoundDeps } from "./round.js";

/*
 * A round's negatives: a seeded sample of the crawl's stored pages (or of the --negatives pool),
 * less the pages that cross-fitted models take for math (classify/pu.ts).
 */

/**
 * The cross-fitted models' dimension: a much smaller model than the round's is enough to tell
 * math from the rest, and training time grows with it. Measured with scripts/eval-rounds.ts on
 * crawls at 2, 10 and 25 % math (docs/benchmarks.md, "Selection on crawls where math is
 * common"): 16 selects the same pages as 64 did, and takes the same sampled pages for math (±2);
 * the step took 3.2–5.4 s against 4.5–8.0 s (with train.ts's cache of tokenised texts).
 */
export const PU_DIM = 16;

/** A stored page used as a positive or negative: `doc` is its id in the run's stores. */
export type StoredDoc = TextDoc & { doc: number };
/** A negative: a stored page, or a document of the --negatives pool (no `doc`). */
export type NegDoc = TextDoc & { doc?: number };

/** A seeded uniform sample of k documents of the --negatives pool, ordered by split key as the pool is read. */
export function samplePool(pool: TextDoc[], k: number, seed: number): NegDoc[] {
  const r = new Reservoir<TextDoc>(k, seed);
  const sorted = [...pool].sort((a, b) => (splitKey(a) < splitKey(b) ? -1 : splitKey(a) > splitKey(b) ? 1 : 0));
  for (const d of sorted) r.offer(d);
  return r.items;
}

/**
 * A seeded uniform sample of k stored documents (not promoted ones, not exact copies) as
 * negatives: the k lowest by `sample_key` (a hash of the id and the seed, ties by id), read from
 * each part's index on it and merged, so the sample does not depend on how the run is split into
 * tasks and the coordinator reads about k rows, not every page. A part whose keys are missing
 * (a store from before them) or were made with another seed has them filled first.
 */
export function sampleNegatives(stores: RunStores, k: number, seed: number): StoredDoc[] {
  return storedDocs(stores, sampleIds(stores, k, seed, false));
}

/**
 * The ids of `sampleNegatives`, in id order. `outside`: pages outside the candidate pool count
 * too (not those an extraction dropped), for extracting them first (rounds/outside.ts); without
 * it, only extracted pages.
 */
export function sampleIds(stores: RunStores, k: number, seed: number, outside: boolean): number[] {
  if (k <= 0) return [];
  for (const p of stores.parts) p.sampleKeys(seed);
  type Row = { key: number; id: number };
  // promoted pages are positives; an exact copy would weigh its text twice
  const extracted = outside ? "d.extracted >= 0" : "d.extracted = 1";
  const streams = stores.parts.map((p) => p.db.prepare(`SELECT d.sample_key AS key, d.id FROM documents d WHERE ${notCopy("d")} AND ${extracted} AND NOT EXISTS (SELECT 1 FROM promoted p WHERE p.doc_id = d.id) ORDER BY d.sample_key, d.id`).iterate() as Iterable<Row>);
  const chosen: number[] = [];
  const merged = mergeSorted(streams, (a, b) => a.key < b.key || (a.key === b.key && a.id < b.id));
  for (const r of merged) {
    chosen.push(r.id);
    if (chosen.length >= k) break;
  }
  merged.return(undefined); // the statements are finished before the texts are read
  return chosen.sort((a, b) => a - b);
}

/**
 * A round's negatives from the crawl: `sampleNegatives`, recorded in meta `sample:N` when the
 * round trains. A round trained by a version before it (no record) and resumed after its
 * training keeps the sample its model was trained against: the reservoir over ids it drew then.
 */
export function crawlNegatives(stores: RunStores, round: number, k: number, seed: number, training: boolean): StoredDoc[] {
  const key = `sample:${round}`;
  if (!training && stores.coord.meta(key) === undefined) return reservoirNegatives(stores, k, seed);
  if (training) stores.coord.setMeta(key, "sample_key");
  return sampleNegatives(stores, k, seed);
}

/**
 * The sample as versions before `sample_key` drew it, for their rounds resumed after training: a
 * seeded reservoir fed every stored id (not promoted, not copies) in id order across the parts.
 */
export function reservoirNegatives(stores: RunStores, k: number, seed: number): StoredDoc[] {
  const r = new Reservoir<number>(k, seed);
  const out = new Set(stores.parts.flatMap((p) => p.db.prepare("SELECT doc_id FROM promoted UNION ALL SELECT doc_id FROM copies").pluck().all() as number[]));
  const ids = (p: RunStores["parts"][number]) => (function* () {
    for (const rows of p.iterDocs<{ id: number }>("1 AS one", 5000)) for (const row of rows) yield row.id;
  })();
  for (const id of mergeSorted(stores.parts.map(ids), (a, b) => a < b)) if (!out.has(id)) r.offer(id);
  return storedDocs(stores, [...r.items].sort((a, b) => a - b));
}

/** The stored documents `ids` (in that order) as training documents. */
function storedDocs(stores: RunStores, ids: number[]): StoredDoc[] {
  const st = new Map(stores.parts.map((p) => [p, p.db.prepare("SELECT id AS doc, doc_key AS id, url_norm AS split, url, text FROM documents WHERE id = ?")]));
  return ids.map((id) => st.get(stores.partOf(id))!.get(id) as StoredDoc);
}

/** Share of held-out positives scoring at or above the cut-off that takes a sampled page for math. */
export const PU_RECALL = 0.98;

export interface Unlabeled {
  /** The cross-fitted models judged the sample (not skipped for too few pages, nor turned off). */
  judged: boolean;
  train: NegDoc[];
  held: NegDoc[];
  removed: number;
  heldRemoved: number;
}

/**
 * The sampled pages as negatives, less those that two cross-fitted models score like the seeds
 * (classify/pu.ts). Decided when the round's model is trained and kept (meta `pu:N`: the split
 * keys left out), so a resumed round uses the negatives its model was trained against.
 */
export async function unlabeledNegatives(stores: RunStores, round: number, cfg: RoundConfig, deps: RoundDeps, training: boolean, posTrain: TextDoc[], posHeld: TextDoc[], negs: NegDoc[], held: NegDoc[]): Promise<Unlabeled> {
  if (!cfg.unlabeled) return { judged: false, train: negs, held, removed: 0, heldRemoved: 0 };
  const store = stores.coord;
  const key = `pu:${round}`;
  type Saved = { removed: string[]; held_removed: string[]; cutoffs: number[]; skipped?: string };
  let saved = training ? undefined : (JSON.parse(store.meta(key) ?? "null") as Saved | null) ?? undefined;
  // a round trained by a version without this step, resumed after training: its model was
  // trained against the whole sample, which is what it keeps
  if (!training && !saved) return { judged: false, train: negs, held, removed: 0, heldRemoved: 0 };
  if (!saved) {
    if (posHeld.length < PU_MIN_POSITIVES || negs.length < PU_MIN_NEGATIVES) {
      saved = { removed: [], held_removed: [], cutoffs: [], skipped: `${posHeld.length} held-out positives (${PU_MIN_POSITIVES} needed) and ${negs.length} sampled pages (${PU_MIN_NEGATIVES} needed)` };
    } else {
      deps.onStep?.("unlabeled");
      const dir = path.join(cfg.runDir, "models", `round-${round}`);
      const r = await dropMathLike(posTrain, posHeld, negs, held, {
        recall: PU_RECALL,
        passes: 2,
        train: async (name, pos, neg) => {
          const file = path.join(dir, `pu-${name}.bin`);
          await trainModel(pos, neg, file, { args: { ...cfg.args, dim: Math.min(cfg.args.dim, PU_DIM) }, threads: cfg.trainThreads, deterministic: cfg.deterministic, seed: cfg.seed, ...(deps.signal ? { signal: deps.signal } : {}) });
          const scorer = openScorer(file, cfg.scoreProcesses, undefined, cfg.engine);
          return {
            score: (texts) => scorer.score(texts),
            close: async () => {
              await scorer.close();
              fs.rmSync(file, { force: true });
            },
          };
        },
      });
      saved = { removed: r.removed.map(splitKey), held_removed: r.heldRemoved.map(splitKey), cutoffs: r.cutoffs.map((c) => +c.toFixed(6)) };
    }
    store.setMeta(key, JSON.stringify(saved));
  }
  const out = new Set(saved.removed);
  const heldOut = new Set(saved.held_removed);
  const train = negs.filter((d) => !out.has(splitKey(d)));
  const kept = held.filter((d) => !heldOut.has(splitKey(d)));
  const removed = negs.length - train.length;
  deps.logger.log("info", "unlabeled_negatives", { round, sampled: negs.length, taken_for_math: removed, held_out: held.length, held_out_taken_for_math: held.length - kept.length, cutoffs: saved.cutoffs, ...(saved.skipped ? { skipped: saved.skipped } : {}) });
  if (negs.length > 0 && removed / negs.length > 0.5) {
    deps.warn?.(
      cfg.negativePool
        ? `round ${round}: ${removed} of the ${negs.length} pages sampled from --negatives score like the seeds and are not used as negatives: is it a pool of mathematics? The model is trained against the ${train.length} left; give a random web sample`
        : `round ${round}: ${removed} of the ${negs.length} pages sampled from the crawl score like the seeds and are not used as negatives: the crawl looks mostly mathematics. The model is trained against the ${train.length} left; for a crawl of math sites, give --negatives SOURCE,... (a random web sample) to train against`,
    );
  }
  return { judged: !saved.skipped, train, held: kept, removed, heldRemoved: held.length - kept.length };
}

