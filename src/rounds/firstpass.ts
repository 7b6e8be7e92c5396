/*
 * [speed]'s first-pass model and its candidate bar. The model is trained, before the crawl, on
 * the seeds' cheap texts (extract/firstpass) against the cheap texts of a sample of the crawl's
 * first pages, and scores every page's cheap text in-process (classify/linear). The bar is the
 * score that keeps `recall` of the held-out seeds; a page is a candidate when its score clears
 * the bar or it carries any math signal.
 */
import { LinearModel } from "../classify/linear.js";
import { recallCutoff } from "../classify/pu.js";
import { type TextDoc, splitKey } from "../classify/seeds.js";
import { isHeldOut } from "../classify/split.js";
import { DEFAULT_ARGS, type FastTextArgs, trainModel } from "../classify/train.js";
import { firstPass } from "../extract/firstpass.js";
import { type JsonlIssue, readDocFile } from "../extract/inputs.js";
import { seedFiles, seedName } from "../classify/seeds.js";

/** Share of the held-out seeds the bar keeps by default. */
export const POOL_RECALL = 0.995;

/**
 * Settings of the first-pass model: a smaller vector than a round's model (training is the cost
 * that grows with it; scoring reads one weight per word whatever the dimension).
 */
export const FIRST_PASS_ARGS: FastTextArgs = { ...DEFAULT_ARGS, dim: 64, epoch: 0, lr: 0 };

/**
 * The seeds as the first pass sees them: a record with `html` by its cheap text (so seeds and
 * crawled pages are read alike), a record with only `text` by that text.
 */
export async function firstPassSeeds(spec: string, onIssue: (i: JsonlIssue & { file: string }) => void): Promise<TextDoc[]> {
  const out: TextDoc[] = [];
  for (const file of seedFiles(spec)) {
    for await (const r of readDocFile(file, seedName(spec, file), (i) => onIssue({ ...i, file }))) {
      const text = r.text ?? (typeof r.body === "string" ? firstPass(Buffer.from(r.body), r.contentType).text : firstPass(r.body, r.contentType).text);
      if (text.trim().length >= 20) out.push({ id: r.id, url: r.url, text });
    }
  }
  return out;
}

export interface FirstPassModel {
  model: LinearModel;
  /** The bar: a page scoring at least this is a candidate. */
  bar: number;
  /** Held-out seeds and the share of them at or above the bar. */
  heldOut: number;
  heldRecall: number;
  /** Scores of the held-out seeds (for reports). */
  heldScores: number[];
  trainSeconds: number;
}

export interface FirstPassOptions {
  /** Share of seeds held out to set the bar (by split key, as a round splits them). */
  heldOut: number;
  recall: number;
  threads: number;
  seed: number;
  args?: FastTextArgs;
}

/** Trains the first-pass model at `modelPath` and sets its bar on the held-out seeds. */
export async function trainFirstPass(seeds: TextDoc[], sample: TextDoc[], modelPath: string, o: FirstPassOptions): Promise<FirstPassModel> {
  const held = seeds.filter((d) => isHeldOut(splitKey(d), o.heldOut));
  const train = seeds.filter((d) => !isHeldOut(splitKey(d), o.heldOut));
  const t = performance.now();
  const r = await trainModel(train, sample, modelPath, { args: o.args ?? FIRST_PASS_ARGS, threads: o.threads, deterministic: false, seed: o.seed });
  const loaded = LinearModel.load(r.model);
  if (typeof loaded === "string") throw new Error(`the first-pass model cannot be scored in-process: ${loaded}`);
  const heldScores = held.map((d) => loaded.scoreText(d.text));
  const bar = heldScores.length ? recallCutoff(heldScores, o.recall) : 0;
  const kept = heldScores.filter((s) => s >= bar).length;
  return { model: loaded, bar, heldOut: held.length, heldRecall: held.length ? kept / held.length : 1, heldScores, trainSeconds: (performance.now() - t) / 1000 };
}

/** Whether a page is a candidate: its first-pass score clears the bar, or it carries a math signal. */
export const isCandidate = (score: number, signals: number, bar: number): boolean => signals !== 0 || score >= bar;
