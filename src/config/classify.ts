import os from "node:os";
import { UsageError } from "../core/errors.js";
import type { OptionSpecs, Resolved } from "../core/options.js";
import { DEFAULT_ARGS, type FastTextArgs } from "../classify/train.js";

/** fastText training options (defaults: the paper's, epochs and lr sized to the data, bucket count measured). */
export const trainOptionSpecs = {
  dim: { type: "number", default: DEFAULT_ARGS.dim, arg: "N", help: "fastText vector size (paper: 256)" },
  lr: { type: "number", arg: "R", help: "fastText learning rate (paper: 0.1) [default: sized to the training set: 0.1 from 200,000 lines, up to 0.5 for a few thousand]" },
  wordNgrams: { type: "number", default: DEFAULT_ARGS.wordNgrams, arg: "N", help: "fastText word n-grams (paper: 3)" },
  minCount: { type: "number", default: DEFAULT_ARGS.minCount, arg: "N", help: "fastText minimal word count (paper: 3)" },
  epoch: { type: "number", arg: "N", help: "fastText epochs (paper: 3) [default: sized to the training set: 3 from 200,000 lines, else 5]" },
  paperSettings: { type: "boolean", default: false, help: "train with the paper's epochs and learning rate (3, 0.1) whatever the training set's size (--epoch and --lr still override)" },
  bucket: { type: "number", default: DEFAULT_ARGS.bucket, arg: "N", help: "fastText n-gram hash buckets (2,000,000 makes a ~2 GB model for no measured gain; see ARCHITECTURE.md)" },
  trainThreads: { type: "number", default: os.availableParallelism(), arg: "N", help: "fastText training threads" },
  deterministic: { type: "boolean", default: false, help: "one training thread and a fixed shuffle: a byte-identical model on rerun" },
  seed: { type: "number", default: 1, arg: "N", help: "seed of the negative sample and of the training-line shuffle" },
  heldOut: { type: "number", default: 0.1, arg: "SHARE", help: "share of seeds and negatives held out of training for evaluation (by a hash of the id)" },
  negCount: { type: "number", default: 0, arg: "N", help: "negatives sampled from WARC sources (0: as many as the seeds; the paper used 500,000)" },
} as const satisfies OptionSpecs;

export type TrainConfig = Resolved<typeof trainOptionSpecs>;

export function fastTextArgs(c: TrainConfig): FastTextArgs {
  const whole = (flag: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${flag} expects a whole number ≥ ${min}, got ${v}`);
  };
  whole("dim", c.dim, 1);
  whole("word-ngrams", c.wordNgrams, 1);
  whole("min-count", c.minCount, 1);
  if (c.epoch !== undefined) whole("epoch", c.epoch, 1);
  whole("bucket", c.bucket, 1);
  whole("train-threads", c.trainThreads, 1);
  whole("neg-count", c.negCount, 0);
  if (c.lr !== undefined && !(c.lr > 0)) throw new UsageError(`--lr expects a number > 0, got ${c.lr}`);
  if (!(c.heldOut >= 0 && c.heldOut < 1)) throw new UsageError(`--held-out expects a share in [0, 1), got ${c.heldOut}`);
  // 0: sized to the training set when it is known (classify/train sizedArgs)
  const paper = c.paperSettings;
  return { dim: c.dim, lr: c.lr ?? (paper ? DEFAULT_ARGS.lr : 0), wordNgrams: c.wordNgrams, minCount: c.minCount, epoch: c.epoch ?? (paper ? DEFAULT_ARGS.epoch : 0), bucket: c.bucket, loss: DEFAULT_ARGS.loss };
}

/** How pages are scored (score, eval, round, run). */
export const engineOptionSpecs = {
  engine: {
    type: "string",
    default: "auto",
    arg: "auto|binary",
    help: "auto: read the model's weights and score in-process (exact for the two-label softmax models mathcorpus trains, ~3-7x faster), other models with the fastText binary; binary: always the fastText binary",
  },
} as const satisfies OptionSpecs;

export function checkEngine(engine: string): "auto" | "binary" {
  if (engine !== "auto" && engine !== "binary") throw new UsageError(`--engine expects auto or binary, got ${engine}`);
  return engine;
}
