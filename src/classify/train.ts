import fs from "node:fs";
import { InputError } from "../core/errors.js";
import path from "node:path";
import { once } from "node:events";
import { sha256File } from "../core/hash.js";
import { fsyncPath } from "../core/atomic.js";
import { FastTextError, fasttextVersion, runFastText } from "./fasttext.js";
import { modelFileProblem } from "./linear.js";

export { sha256File };
import { LABEL_MATH, LABEL_OTHER, fastTextLine } from "./features.js";
import { type TextDoc, type TrainDoc, splitKey } from "./seeds.js";
import { shuffle } from "./split.js";

/** fastText supervised arguments. */
export interface FastTextArgs {
  dim: number;
  lr: number;
  wordNgrams: number;
  minCount: number;
  epoch: number;
  bucket: number;
  loss: string;
}

/**
 * The paper's settings (DeepSeekMath §2.1), fastText's own for the rest, and a bucket count
 * chosen by measurement (ARCHITECTURE.md): 2,000,000 buckets at dim 256 make a ~2.1 GB model
 * for no gain in ranking on held-out pages.
 */
export const DEFAULT_ARGS: FastTextArgs = { dim: 256, lr: 0.1, wordNgrams: 3, minCount: 3, epoch: 3, bucket: 200_000, loss: "softmax" };

/** Training lines from which the paper's epochs and learning rate are used as they are. */
export const PAPER_SCALE = 200_000;

/**
 * Epochs and learning rate sized to a training set of `lines` lines, for the ones not given (0).
 * The paper's 3 epochs at lr 0.1 were for ~1M lines; on the bundled seeds (~2,700 lines) they
 * leave every held-out page between 0.4 and 0.8 with the loss near ln 2. fastText's learning
 * rate decays linearly over all updates, so what a run learns grows with epochs × lr: below
 * PAPER_SCALE lines, 5 epochs at an lr growing as 1/sqrt(lines), from 0.1 up to 0.5 (2,700
 * lines: 0.5; 20,000: 0.19; 100,000: 0.1). Measured on subjects the seeds do not hold
 * (scripts/eval-classify.ts, docs/benchmarks.md): the ranking is as good as the paper's settings
 * and the probabilities spread out; more epochs (25) at lr 0.1 cost 4x the time for the same.
 */
export function sizedArgs(args: FastTextArgs, lines: number): FastTextArgs & { sized: string[] } {
  const sized: string[] = [];
  const out = { ...args, sized };
  const paper = lines >= PAPER_SCALE;
  if (!args.epoch) {
    out.epoch = paper ? DEFAULT_ARGS.epoch : 5;
    sized.push("epoch");
  }
  if (!args.lr) {
    out.lr = paper ? DEFAULT_ARGS.lr : +Math.min(0.5, Math.max(DEFAULT_ARGS.lr, 0.06 * Math.sqrt(PAPER_SCALE / Math.max(1, lines)))).toFixed(3);
    sized.push("lr");
  }
  return out;
}

/** fastText's training loss (natural log) above which a model is said to underfit: chance is ln 2 ≈ 0.69. */
export const UNDERFIT_LOSS = 0.3;

export interface TrainOptions {
  args: FastTextArgs;
  threads: number;
  /** One thread and a fixed shuffle: the model file is byte-identical on rerun. */
  deterministic: boolean;
  /** Seed of the shuffle of training lines. */
  seed: number;
  onProgress?: (text: string) => void;
  /** Stops training (the fastText process) and rejects. */
  signal?: AbortSignal;
}

export interface TrainResult {
  model: string;
  bytes: number;
  /** Training time: writing the training file and running fastText. */
  seconds: number;
  positives: number;
  negatives: number;
  threads: number;
  fasttext: string;
  /** The training loss fastText reported last (its running average at the end), if it did. */
  loss?: number;
  /** The arguments trained with (epochs and lr sized to the data where not given). */
  args: FastTextArgs & { sized: string[] };
}

/** What the binary says when it cannot write the word vectors (see trainModel). */
const VECTORS_REFUSED = "cannot be opened for saving vectors";

/**
 * A document's fastText line, kept while the document lives: a round trains up to five models
 * on the same positives (the unlabeled step's four, then its own), and tokenising is most of
 * writing a training file (measured: 290 ms for 3,000 seed texts, 90 ms with their lines known).
 */
function lineOf(d: TextDoc): string {
  const known = lines.get(d);
  if (known && known.text === d.text) return known.line;
  const line = fastTextLine(d.text);
  lines.set(d, { text: d.text, line });
  return line;
}
const lines = new WeakMap<TextDoc, { text: string; line: string }>();

/** Writes the labelled, shuffled training file; returns its path. */
export async function writeTrainingFile(file: string, pos: TrainDoc[], neg: TrainDoc[], seed: number): Promise<void> {
  const rows: Array<[string, TrainDoc]> = [...pos.map((d) => [LABEL_MATH, d] as [string, TrainDoc]), ...neg.map((d) => [LABEL_OTHER, d] as [string, TrainDoc])];
  // stable base order (by split key) before the seeded shuffle, so input order does not matter
  rows.sort((a, b) => {
    const [x, y] = [splitKey(a[1]), splitKey(b[1])];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  shuffle(rows, seed);
  const out = fs.createWriteStream(file);
  for (const [label, d] of rows) {
    const line = "line" in d ? d.line : lineOf(d);
    if (!out.write(`${label} ${line}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/**
 * The last progress report in a piece of fastText's `-verbose 2` output ("Progress: 42.1%
 * words/sec/thread: … ETA:   0h 3m"), or undefined if it holds none.
 */
export function parseTrainProgress(chunk: string): { percent: number; eta: string } | undefined {
  let last: RegExpExecArray | undefined;
  for (const m of chunk.matchAll(/Progress:\s*([\d.]+)%[^\r\n]*?ETA:\s*(\d+)h\s*(\d+)m/g)) last = m;
  if (!last) return undefined;
  const h = Number(last[2]);
  const m = Number(last[3]);
  return { percent: Number(last[1]), eta: h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m` : "<1m" };
}

/** The last training loss in a piece of fastText's `-verbose 2` output (`loss:` in the 2018 binary, `avg.loss:` in later ones). */
export function parseTrainLoss(chunk: string): number | undefined {
  let last: number | undefined;
  for (const m of chunk.matchAll(/(?:avg\.)?loss:\s*([\d.]+)/g)) last = Number(m[1]);
  return last;
}

/** A `TrainOptions.onProgress` that turns fastText's reports into "train 42.1%  ETA 3m" lines. */
export function trainProgressLines(onLine: (text: string) => void): (chunk: string) => void {
  return (chunk) => {
    const p = parseTrainProgress(chunk);
    if (p) onLine(`train ${p.percent.toFixed(1)}%  ETA ${p.eta}`);
  };
}

/** Trains a model at `modelPath` (.bin) from positives and negatives with the fastText binary. */
export async function trainModel(pos: TrainDoc[], neg: TrainDoc[], modelPath: string, opts: TrainOptions): Promise<TrainResult> {
  if (pos.length === 0) throw new InputError("no positive training documents");
  if (neg.length === 0) throw new InputError("no negative training documents");
  const prefix = modelPath.replace(/\.bin$/, "");
  fs.mkdirSync(path.dirname(prefix), { recursive: true });
  const trainFile = `${prefix}.train.txt`;
  const t0 = Date.now();
  await writeTrainingFile(trainFile, pos, neg, opts.seed);
  const threads = opts.deterministic ? 1 : opts.threads;
  const a = sizedArgs(opts.args, pos.length + neg.length);
  let loss: number | undefined;
  let tail = ""; // a progress report may be split across chunks
  const onStderr = (chunk: string) => {
    tail = (tail + chunk).slice(-512);
    loss = parseTrainLoss(tail) ?? loss;
    opts.onProgress?.(chunk);
  };
  const model = `${prefix}.bin`;
  // The binary writes PARTIAL.bin, unchecked (a full disk leaves it cut short and the binary
  // still exits 0): it becomes MODEL.bin only once its structure adds up to its size and it is
  // on disk, so a model file in place is always a whole one.
  const partial = `${prefix}.partial`;
  // After saving the model the binary writes every word's vector as text to PARTIAL.vec: 6 of
  // 14 s measured on 2,700 pages (110,783 words × 256 numbers, 303 MB), wasted on a classifier.
  // A directory in its place makes that write fail at once, after the model is closed; the
  // binary then stops with "cannot be opened for saving vectors", which counts as success when
  // a new model file is there.
  const vectors = `${partial}.vec`;
  fs.rmSync(vectors, { recursive: true, force: true });
  fs.rmSync(`${partial}.bin`, { force: true });
  fs.rmSync(model, { force: true });
  fs.mkdirSync(vectors);
  try {
    await runFastText(
      ["supervised", "-input", trainFile, "-output", partial, "-dim", String(a.dim), "-lr", String(a.lr), "-wordNgrams", String(a.wordNgrams), "-minCount", String(a.minCount), "-epoch", String(a.epoch), "-bucket", String(a.bucket), "-loss", a.loss, "-thread", String(threads), "-verbose", "2"],
      { onStderr, ...(opts.signal ? { signal: opts.signal } : {}), accept: (tail) => tail.includes(VECTORS_REFUSED) && fs.existsSync(`${partial}.bin`) },
    );
    const problem = modelFileProblem(`${partial}.bin`);
    if (problem) throw damagedModel(model, problem);
    fsyncPath(`${partial}.bin`);
    fs.renameSync(`${partial}.bin`, model);
    fsyncPath(path.dirname(model));
  } finally {
    fs.rmSync(trainFile, { force: true });
    fs.rmSync(vectors, { recursive: true, force: true });
    fs.rmSync(`${partial}.bin`, { force: true });
  }
  return {
    model,
    bytes: fs.statSync(model).size,
    seconds: (Date.now() - t0) / 1000,
    positives: pos.length,
    negatives: neg.length,
    threads,
    fasttext: fasttextVersion(),
    ...(loss !== undefined ? { loss } : {}),
    args: a,
  };
}

/**
 * The error for a model the binary wrote damaged. With the disk (nearly) full, it is that
 * disk's error (ENOSPC: main says to free space and rerun); else an internal fastText error.
 */
function damagedModel(model: string, problem: string): Error {
  const dir = path.dirname(model);
  let free: number | undefined;
  try {
    const st = fs.statfsSync(dir);
    free = st.bavail * st.bsize;
  } catch {
    free = undefined;
  }
  if (free !== undefined && free < FULL_DISK_BYTES) {
    return Object.assign(new Error(`fastText could not write the whole model ${model} (${problem}); ${free} bytes are left on the disk holding ${dir}. The round is not advanced: the model is trained again on rerun`), { code: "ENOSPC" });
  }
  return new FastTextError(`fastText wrote a damaged model ${model} (${problem}; ${free === undefined ? "free space unknown" : `${free} bytes free`})`);
}

/** Free space under which a damaged model is blamed on a full disk. */
const FULL_DISK_BYTES = 64 << 20;

/** Sidecar path: MODEL.bin → MODEL.json. */
export function sidecarPath(model: string): string {
  return model.replace(/\.(bin|ftz)$/, "") + ".json";
}
