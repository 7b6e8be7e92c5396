/*
 * [speed]'s first-pass model and its candidate bar. The model is trained, before the crawl, on
 * the seeds' cheap texts (extract/firstpass) against the cheap texts of a sample of the crawl's
 * first pages, and scores every page's cheap text in-process (classify/linear). The bar is the
 * score that keeps `recall` of the held-out seeds; a page is a candidate when its score clears
 * the bar or it carries any math signal.
 */
import fs from "node:fs";
import path from "node:path";
import { LinearModel } from "../classify/linear.js";
import { writeAtomic } from "../core/atomic.js";
import { InputError, errorMessage } from "../core/errors.js";
import { sha256File } from "../core/hash.js";
import type { Logger } from "../core/log.js";
import type { FirstPassGate } from "../extract/extract.js";
import type { Extractor } from "../extract/pool.js";
import { DEFAULT_RANGE_BYTES, RangeFeed, workerSource } from "../extract/ranges.js";
import type { WorkStore } from "../store/store.js";
import { WarcStats, readPages } from "../warc/pages.js";
import type { WarcSource } from "../warc/source.js";
import { recallCutoff } from "../classify/pu.js";
import { type TextDoc, type TrainDoc, seedFiles, seedName, splitKey } from "../classify/seeds.js";
import { isHeldOut } from "../classify/split.js";
import { DEFAULT_ARGS, type FastTextArgs, trainModel } from "../classify/train.js";
import { firstPass } from "../extract/firstpass.js";
import { type JsonlIssue, readDocFile } from "../extract/inputs.js";

/** Share of the held-out seeds the bar keeps by default. */
export const POOL_RECALL = 0.995;

/**
 * Settings of the first-pass model: a much smaller vector than a round's model (training is the
 * cost that grows with it; scoring reads one weight per word whatever the dimension), and word
 * pairs, not triples. With the first 12,000 characters of each cheap text (FIRST_PASS_TEXT),
 * measured on a 19,604-page CC-style crawl at 2 % math (scripts/eval-pool.ts, docs/benchmarks.md):
 * the pool held every math page either way, and 3.3 % of the crawl against 7.8 % with whole texts
 * and triples, for 1.0 against 1.4 ms a page (first pass and score) and half the training time.
 * Dimension 16 against 64: the same pool (3.25 % against 3.32 %, every math page and held-out
 * seed) for 3.1 against 4.2 s of training; fewer epochs than sized (2, 3, 4) made it 3–10x larger.
 */
export const FIRST_PASS_ARGS: FastTextArgs = { ...DEFAULT_ARGS, dim: 16, wordNgrams: 2, epoch: 0, lr: 0 };

/** Characters of a page's cheap text the first-pass model reads (the walk stops there). */
export const FIRST_PASS_TEXT = 12_000;

/**
 * The seeds as the first pass sees them: a record with `html` by its cheap text (so seeds and
 * crawled pages are read alike), a record with only `text` by that text.
 */
export async function firstPassSeeds(spec: string, onIssue: (i: JsonlIssue & { file: string }) => void, maxText = Infinity, extractor?: Extractor): Promise<TextDoc[]> {
  const out: TextDoc[] = [];
  // on the extraction workers where there are some, a batch at a time, in order
  const pending: Array<Promise<TextDoc>> = [];
  const flush = async () => {
    for (const d of await Promise.all(pending.splice(0))) if (d.text.trim().length >= 20) out.push(d);
  };
  for (const file of seedFiles(spec)) {
    for await (const r of readDocFile(file, seedName(spec, file), (i) => onIssue({ ...i, file }))) {
      if (r.text !== undefined) pending.push(Promise.resolve({ id: r.id, url: r.url, text: r.text.slice(0, maxText) }));
      else if (extractor) {
        const p = extractor.cheapText(r.body, r.contentType, maxText).then((text) => ({ id: r.id, url: r.url, text }));
        p.catch(() => {}); // awaited in order by flush; this only keeps an early failure from being "unhandled"
        pending.push(p);
      }
      else pending.push(Promise.resolve({ id: r.id, url: r.url, text: firstPass(typeof r.body === "string" ? Buffer.from(r.body) : r.body, r.contentType, undefined, maxText).text }));
      if (pending.length >= 256) await flush();
    }
  }
  await flush();
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
  deterministic?: boolean;
  args?: FastTextArgs;
}

/** Trains the first-pass model at `modelPath` and sets its bar on the held-out seeds. */
export async function trainFirstPass(seeds: TextDoc[], sample: TrainDoc[], modelPath: string, o: FirstPassOptions): Promise<FirstPassModel> {
  const held = seeds.filter((d) => isHeldOut(splitKey(d), o.heldOut));
  const train = seeds.filter((d) => !isHeldOut(splitKey(d), o.heldOut));
  const t = performance.now();
  const r = await trainModel(train, sample, modelPath, { args: o.args ?? FIRST_PASS_ARGS, threads: o.threads, deterministic: o.deterministic ?? false, seed: o.seed });
  const loaded = LinearModel.load(r.model);
  if (typeof loaded === "string") throw new Error(`the first-pass model cannot be scored in-process: ${loaded}`);
  const heldScores = held.map((d) => loaded.scoreText(d.text));
  const bar = heldScores.length ? recallCutoff(heldScores, o.recall) : 0;
  const kept = heldScores.filter((s) => s >= bar).length;
  return { model: loaded, bar, heldOut: held.length, heldRecall: held.length ? kept / held.length : 1, heldScores, trainSeconds: (performance.now() - t) / 1000 };
}

/** What a run records of its first-pass model (meta `first_pass`). */
export interface FirstPassInfo {
  /** The model file (in the run folder), and its sha256: a run resumed with another file in its place is refused. */
  model: string;
  sha256: string;
  bar: number;
  /** Characters of cheap text read per page (FIRST_PASS_TEXT when trained). */
  max_text: number;
  recall: number;
  held_out: number;
  held_recall: number;
  seeds: number;
  sample: number;
  train_seconds: number;
}

export interface GateOptions {
  runDir: string;
  sources: WarcSource[];
  seeds: string;
  heldOut: number;
  recall: number;
  sample: number;
  seed: number;
  threads: number;
  /** One training thread and a fixed shuffle: the same model, hence the same pool, on a rerun (--deterministic). */
  deterministic: boolean;
  maxRecordBytes: number;
  logger: Logger;
  warn: (message: string) => void;
  signal?: AbortSignal;
  /** Its workers read the sample's local files (absent, or no worker threads: this thread does). */
  extractor?: Extractor;
  /** Range size for those reads (extract/ranges.ts; tests make it small). */
  rangeBytes?: number;
}

/**
 * The candidate pool's gate of a run: its first-pass model and bar, trained before the crawl's
 * first page is stored (on the seeds against the first `sample` pages of the sources, in order)
 * and recorded in meta `first_pass`; a resumed crawl reads them back, so every file of a run is
 * gated alike.
 */
export async function runGate(store: WorkStore, o: GateOptions): Promise<{ gate: FirstPassGate; info: FirstPassInfo; trained: boolean }> {
  const recorded = store.meta("first_pass");
  if (recorded) {
    const info = JSON.parse(recorded) as FirstPassInfo;
    return { gate: gateOf(o.runDir, info), info, trained: false };
  }
  const seeds = await firstPassSeeds(o.seeds, (i) => o.warn(`${i.file}:${i.line}: ${i.message}`), FIRST_PASS_TEXT, o.extractor && o.extractor.threads > 0 ? o.extractor : undefined);
  const sample = await gateSample(o);
  if (o.signal?.aborted) throw new Error("interrupted");
  if (sample.length === 0) throw new InputError("--candidate-pool: no page could be read from the sources to train the first-pass model against");
  const file = path.join(o.runDir, "models", "first-pass.bin");
  const fp = await trainFirstPass(seeds, sample, file, { heldOut: o.heldOut, recall: o.recall, threads: o.threads, seed: o.seed, deterministic: o.deterministic });
  const info: FirstPassInfo = {
    model: path.relative(o.runDir, file),
    sha256: sha256File(file),
    bar: fp.bar,
    max_text: FIRST_PASS_TEXT,
    recall: o.recall,
    held_out: fp.heldOut,
    held_recall: fp.heldRecall,
    seeds: seeds.length,
    sample: sample.length,
    train_seconds: +fp.trainSeconds.toFixed(3),
  };
  // for the crawl tasks of a run split into tasks (they read no store but their own), then the run's
  writeAtomic(path.join(o.runDir, GATE_FILE), JSON.stringify(info, null, 2) + "\n");
  store.setMeta("first_pass", JSON.stringify(info));
  o.logger.log("info", "first_pass_trained", { ...info });
  return { gate: { model: fp.model.shared, bar: fp.bar, key: info.sha256, maxText: FIRST_PASS_TEXT }, info, trained: true };
}

/** The largest range the gate's sample is read in. */
const GATE_RANGE_BYTES = 8 << 20;

/**
 * The first `o.sample` pages of the sources, in order, as first-pass texts. Local files are read
 * in ranges on the extraction workers (extract/ranges.ts), a range per worker at a time; other
 * sources on this thread.
 */
async function gateSample(o: GateOptions): Promise<TrainDoc[]> {
  const sample: TrainDoc[] = [];
  const ex = o.extractor && o.extractor.threads > 0 ? o.extractor : undefined;
  const local = ex ? o.sources.filter((s) => workerSource(s) !== undefined) : [];
  // smaller ranges than the crawl's: the sample is a few thousand pages, and with 32 MiB ranges
  // they came back in two late bursts (on cc20k the sample was in at 3.4 s with 32 MiB ranges,
  // 2.9 s with 8 MiB; 4 MiB was no better)
  const rangeBytes = Math.min(o.rangeBytes ?? DEFAULT_RANGE_BYTES, GATE_RANGE_BYTES);
  const feed = ex && local.length > 0 ? new RangeFeed(ex, local, { maxRecordBytes: o.maxRecordBytes, rangeBytes, depth: ex.threads, cheap: FIRST_PASS_TEXT, logger: o.logger }) : undefined;
  try {
    for (const source of o.sources) {
      if (sample.length >= o.sample || o.signal?.aborted) break;
      // a source that cannot be read is the crawl's to report; the sample takes what it can
      try {
        const k = feed ? local.indexOf(source) : -1;
        if (k >= 0 && (await feed!.readable(k))) {
          for await (const { page: p, cheap } of feed!.pages(k, new WarcStats(), () => {})) {
            // a page that ran over its bounds on a worker has no text: it is left out
            if (cheap !== undefined) sample.push({ id: `${p.warcFile}@${p.offset}`, url: p.url, line: cheap });
            if (sample.length >= o.sample || o.signal?.aborted) break;
          }
          continue;
        }
        for await (const p of readPages(source, { maxRecordBytes: o.maxRecordBytes, logger: o.logger }, new WarcStats())) {
          sample.push({ id: `${p.warcFile}@${p.offset}`, url: p.url, text: firstPass(p.body, p.contentType, undefined, FIRST_PASS_TEXT, false).text });
          if (sample.length >= o.sample || o.signal?.aborted) break;
        }
      } catch (err) {
        o.logger.log("warn", "first_pass_sample", { source: source.name, error: errorMessage(err) });
      }
    }
  } finally {
    feed?.close();
  }
  return sample;
}

/** Where a run's first-pass model and bar are written for its crawl tasks (beside the model). */
export const GATE_FILE = path.join("models", "first-pass.json");

/** The gate of `info` (the run's model file checked against its sha256). */
export function gateOf(runDir: string, info: FirstPassInfo): FirstPassGate {
  const file = path.join(runDir, info.model);
  if (!fs.existsSync(file) || sha256File(file) !== info.sha256) {
    throw new InputError(`${file}: the first-pass model this run's crawl began with is missing or changed; the rest of its pages cannot be gated alike (start a new run)`);
  }
  const model = LinearModel.load(file);
  if (typeof model === "string") throw new InputError(`${file}: ${model}`);
  return { model: model.shared, bar: info.bar, key: info.sha256, maxText: info.max_text };
}

/** A crawl task's gate: the one its coordinator trained before launching it (GATE_FILE). */
export function taskGate(runDir: string): FirstPassGate {
  const file = path.join(runDir, GATE_FILE);
  let info: FirstPassInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, "utf8")) as FirstPassInfo;
  } catch (err) {
    throw new InputError(`${file}: the run's first-pass model, which its coordinator trains before the crawl tasks start, cannot be read (${errorMessage(err)})`);
  }
  return gateOf(runDir, info);
}
