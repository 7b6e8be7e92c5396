import { writeAtomic } from "../core/atomic.js";
import path from "node:path";
import { type DataOptions, loadTrainingData } from "../classify/data.js";
import { evaluate } from "../classify/metrics.js";
import { metricsJson, metricsTable } from "../classify/report.js";
import { type TextScorer, openScorer } from "../classify/scorer.js";
import { sha256File, sidecarPath, trainModel, trainProgressLines } from "../classify/train.js";
import { fastTextArgs, trainOptionSpecs } from "../config/classify.js";
import { extractOptionSpecs, toExtractOptions } from "../config/extract.js";
import { warcOptionSpecs } from "../config/warc.js";
import { EXIT, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { shownPath } from "../core/paths.js";
import { Progress } from "../core/progress.js";
import { LangId } from "../extract/lang.js";
import { Extractor } from "../extract/pool.js";
import type { Command } from "./command.js";
import { openSession } from "./session.js";
import { warcReading } from "./warcrun.js";

const specs = {
  seeds: { type: "string", arg: "PATH", help: "seed corpus: a JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or Parquet file with id and text or html, or a folder tree of them (required)" },
  negatives: { type: "list", default: [], arg: "SOURCE,...", help: "negative sources: WARC files/URLs/crawl ids (sampled) and JSONL/Parquet/HTML files (used whole); required" },
  out: { type: "string", arg: "MODEL.bin", help: "where to write the model; its sidecar goes beside it as MODEL.json (required)" },
  json: { type: "boolean", default: false, help: "print the sidecar (training arguments, counts, held-out metrics) as JSON" },
  log: { type: "string", arg: "FILE", help: "append JSON-lines logs to FILE" },
  ...trainOptionSpecs,
  ...extractOptionSpecs,
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Trains the math classifier the way the rounds do: seeds (positives) against negatives,
with the real fastText binary: the paper's settings, epochs and lr sized to the training set (--paper-settings: as the paper). A share of seeds and negatives
(--held-out, by a hash of the id) is never trained on; the model's sidecar records the
metrics on it, the training arguments, the fastText build, the seed-set hash and counts.`;

export const command: Command = {
  name: "train",
  summary: "train a fastText math classifier from seeds and negatives",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("train", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("train", "--seeds DIR --negatives SOURCE,... --out MODEL.bin [options]", "Train a fastText math classifier from seeds and negatives.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    const args = fastTextArgs(o);
    const extract = toExtractOptions(o);
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "train", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (!o.seeds) throw new UsageError("train: --seeds DIR is required");
    if (!o.out) throw new UsageError("train: --out MODEL.bin is required");
    if (o.negatives.length === 0) throw new UsageError("train: --negatives needs at least one source");
    if (!o.out.endsWith(".bin")) throw new UsageError(`train: --out must end in .bin, got ${o.out}`);
    const session = openSession(io, o.log, undefined, "--log");
    const extractor = new Extractor(extract, o.threads);
    const lang = new LangId();
    let scorer: TextScorer | undefined;
    try {
      const data: DataOptions = { extract, warc: warcReading(o, io, session.logger), heldOut: o.heldOut, negCount: o.negCount, seed: o.seed };
      const d = await loadTrainingData(o.seeds, o.negatives, data, session.logger, extractor, lang, session.warn);
      const out = path.resolve(io.cwd, o.out);
      io.stderr.write(`train: ${d.positives.train.length} positives and ${d.negatives.train.length} negatives (held out: ${d.positives.heldOut.length} and ${d.negatives.heldOut.length})\n`);
      const progress = new Progress(io.stderr);
      let result: Awaited<ReturnType<typeof trainModel>>;
      try {
        result = await trainModel(d.positives.train, d.negatives.train, out, {
          args,
          threads: o.trainThreads,
          deterministic: o.deterministic,
          seed: o.seed,
          onProgress: trainProgressLines((text) => progress.update(() => text)),
          ...(io.signal ? { signal: io.signal } : {}),
        });
      } finally {
        progress.done();
      }
      scorer = openScorer(result.model);
      const [pos, neg] = await Promise.all([scorer.score(d.positives.heldOut.map((x) => x.text)), scorer.score(d.negatives.heldOut.map((x) => x.text))]);
      const metrics = pos.length > 0 && neg.length > 0 ? evaluate(pos, neg) : undefined;
      const sidecar = {
        format: 1,
        created: new Date().toISOString(),
        model: { file: path.basename(result.model), bytes: result.bytes, sha256: sha256File(result.model) },
        fasttext: result.fasttext,
        args: { ...result.args, thread: result.threads, deterministic: o.deterministic, shuffle_seed: o.seed, features: "mathcorpus-v1 (lower-case, LaTeX commands, punctuation split, CJK characters, 4000 tokens)" },
        round: null,
        seeds: { dir: o.seeds, files: d.seedFiles, hash: d.seedHash, train: d.positives.train.length, held_out: d.positives.heldOut.length },
        negatives: { sources: d.negativeSources, train: d.negatives.train.length, held_out: d.negatives.heldOut.length, sample_seed: o.seed },
        held_out_share: o.heldOut,
        training_seconds: result.seconds,
        cutoff_1pct_fpr: metrics ? +metrics.at1pctFpr.threshold.toFixed(6) : null,
        metrics: metrics ? metricsJson(metrics) : null,
      };
      writeAtomic(sidecarPath(result.model), JSON.stringify(sidecar, null, 2) + "\n");
      session.logger.log("info", "trained", sidecar);
      if (o.json) io.stdout.write(JSON.stringify(sidecar, null, 2) + "\n");
      else if (metrics) io.stdout.write(metricsTable(metrics, "held-out evaluation"));
      io.stderr.write(
        `train: wrote ${shownPath(io.cwd, result.model)} (${(result.bytes / 1e6).toFixed(1)} MB) in ${result.seconds.toFixed(1)}s` +
          (metrics ? `; held-out ROC-AUC ${metrics.rocAuc.toFixed(4)}, recall ${metrics.at1pctFpr.recall.toFixed(4)} at 1% FPR` : "; no held-out documents to evaluate") +
          "\n",
      );
      return EXIT.ok;
    } catch (err) {
      session.abandon();
      throw err;
    } finally {
      await Promise.all([extractor.close(), lang.close(), scorer?.close(), session.close()]);
    }
  },
};
