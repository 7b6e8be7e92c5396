import fs from "node:fs";
import { InputError } from "../core/errors.js";
import os from "node:os";
import { fastTextLine } from "./features.js";
import { FastTextError, PredictProcess, parseLabels } from "./fasttext.js";
import { Piscina } from "piscina";
import { esmTaskOptions } from "../core/paths.js";
import { LinearModel } from "./linear.js";
import scoreBatch, { type ScoreTask } from "./score-worker.js";

/** What the commands score pages with: the linear reading of the model, or the fastText binary. */
export interface TextScorer {
  readonly engine: "linear" | "fasttext-binary";
  /** Scores raw texts (tokenised as for training). */
  score(texts: string[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Scores with the model's weights read by mathcorpus (classify/linear): exact, and no processes. */
export class LinearScorer implements TextScorer {
  readonly engine = "linear";
  constructor(readonly model: LinearModel) {}
  async score(texts: string[]): Promise<number[]> {
    return texts.map((t) => this.model.scoreText(t));
  }
  async close(): Promise<void> {}
}

/**
 * Scores batches of stored pages (feature hashes, or text where a page has none) with a linear
 * model on worker threads that share its tables (one per core by default; inline with 0).
 */
export class LinearScorePool {
  private readonly pool: Piscina | null;

  constructor(
    readonly model: LinearModel,
    threads = os.availableParallelism(),
  ) {
    this.pool =
      threads > 0
        ? new Piscina({ ...esmTaskOptions(new URL("./score-worker.js", import.meta.url), "src/classify/score-worker.js"), minThreads: threads, maxThreads: threads, idleTimeout: 30_000 })
        : null;
  }

  get threads(): number {
    return this.pool ? this.pool.options.maxThreads : 0;
  }

  async score(features: Array<Uint32Array | null>, texts: Array<string | null>): Promise<Float64Array> {
    const task: ScoreTask = { model: this.model.shared, features, texts };
    return this.pool ? ((await this.pool.run(task)) as Float64Array) : scoreBatch(task);
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
  }
}

/**
 * The scorer for a model: the linear one for the models mathcorpus trains, the fastText binary
 * (one process per core) for any other kind, with the reason passed to `onBinary`.
 */
export function openScorer(model: string, processes = os.availableParallelism(), onBinary?: (why: string) => void, engine: "auto" | "binary" = "auto"): TextScorer {
  checkModelFile(model);
  const m = engine === "binary" ? "--engine binary" : LinearModel.load(model);
  if (typeof m !== "string") return new LinearScorer(m);
  onBinary?.(m);
  return new Scorer(model, processes);
}

/** fastText's model-file magic number (first int32 of a .bin / .ftz). */
const FASTTEXT_MAGIC = 793712314;

/** Fails early and clearly on a file that is not a fastText model. */
export function checkModelFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    throw new InputError(`model file not found: ${file}`);
  }
  try {
    const head = Buffer.alloc(8);
    const n = fs.readSync(fd, head, 0, 8, 0);
    if (n < 8 || head.readInt32LE(0) !== FASTTEXT_MAGIC) throw new InputError(`${file} is not a fastText model (bad magic number)`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * P(math) from the two labels, with the better-resolved one: near 1, "1 − P(other)" keeps the
 * ranking that fastText's P(math) ≈ 1.00001 (clamped to 1) would lose.
 */
export function mathProbability(line: string): number | undefined {
  const labels = parseLabels(line);
  const math = labels.get("math");
  const other = labels.get("other");
  if (math === undefined && other === undefined) return undefined;
  if (math !== undefined && other !== undefined) return math < 0.5 ? math : 1 - other;
  return math !== undefined ? math : 1 - other!;
}

/**
 * Scores texts with one long-lived fastText process per core, fed in batches (each process
 * gets the next batch when it has the fewest pending lines). A batch whose process dies is
 * retried once on a fresh process; a second failure is an error, never silent zeros.
 */
export class Scorer implements TextScorer {
  readonly engine = "fasttext-binary";
  private readonly procs: PredictProcess[];
  private checked = false;

  constructor(
    readonly model: string,
    processes = os.availableParallelism(),
  ) {
    checkModelFile(model);
    this.procs = Array.from({ length: Math.max(1, processes) }, () => new PredictProcess(model, 2));
  }

  private pick(): PredictProcess {
    return this.procs.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  /** Scores pre-tokenised fastText lines. */
  async scoreLines(lines: string[]): Promise<number[]> {
    let out: string[];
    try {
      out = await this.pick().predict(lines);
    } catch (err) {
      if (!(err instanceof FastTextError)) throw err;
      out = await this.pick().predict(lines); // the failed process restarts on its next request
    }
    return out.map((line) => {
      const p = mathProbability(line);
      if (p === undefined) {
        throw new InputError(`model ${this.model} does not predict __label__math/__label__other (got ${JSON.stringify(line.slice(0, 80))}): not a mathcorpus classifier`);
      }
      this.checked = true;
      return p;
    });
  }

  /** Scores raw texts (tokenised as for training). */
  score(texts: string[]): Promise<number[]> {
    return this.scoreLines(texts.map((t) => fastTextLine(t)));
  }

  get verified(): boolean {
    return this.checked;
  }

  /** Kills every process (tests simulate crashes with it). */
  killAll(): void {
    for (const p of this.procs) p.kill();
  }

  async close(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.close()));
  }
}
