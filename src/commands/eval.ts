import { checkFolderPath } from "../core/outputs.js";
import { writeAtomic } from "../core/atomic.js";
import fs from "node:fs";
import path from "node:path";
import { type DataOptions, loadTrainingData } from "../classify/data.js";
import { evaluate, prCurveSvg } from "../classify/metrics.js";
import { metricsJson, metricsTable } from "../classify/report.js";
import { openScorer } from "../classify/scorer.js";
import { checkEngine, engineOptionSpecs } from "../config/classify.js";
import { sidecarPath } from "../classify/train.js";
import { extractOptionSpecs, toExtractOptions } from "../config/extract.js";
import { warcOptionSpecs } from "../config/warc.js";
import { EXIT, InputError, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { shownPath } from "../core/paths.js";
import { LangId } from "../extract/lang.js";
import { Extractor } from "../extract/pool.js";
import type { Command } from "./command.js";
import { openSession } from "./session.js";
import { warcReading } from "./warcrun.js";

const specs = {
  run: { type: "string", arg: "DIR", help: "evaluate a run's round (its model on the round's held-out seeds and sampled pages) instead of --model/--seeds/--negatives" },
  round: { type: "number", arg: "N", help: "with --run: the round (default: the last finished one)" },
  model: { type: "string", arg: "MODEL.bin", help: "the model to evaluate (required)" },
  seeds: { type: "string", arg: "PATH", help: "positives: a seed file or folder tree of JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or Parquet files (required)" },
  negatives: { type: "list", default: [], arg: "SOURCE,...", help: "negatives: JSONL/Parquet/HTML files and WARC sources (required)" },
  split: { type: "string", default: "held-out", choices: ["held-out", "all"], help: "evaluate on the held-out split (the share in the model's sidecar) or on every document (sets never trained on)" },
  heldOut: { type: "number", arg: "SHARE", help: "held-out share when the model has no sidecar" },
  cutoff: { type: "number", arg: "SCORE", help: "the selection cut-off to report precision/recall/F1 at (default: the model's 1% FPR cut-off, else computed here)" },
  report: { type: "string", arg: "DIR", help: "folder for the JSON metrics and the SVG PR curve (default: beside the model)" },
  json: { type: "boolean", default: false, help: "print the metrics as JSON instead of a table" },
  log: { type: "string", arg: "FILE", help: "append JSON-lines logs to FILE" },
  ...engineOptionSpecs,
  ...extractOptionSpecs,
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Recall on held-out seeds is the share of held-out positives scoring at or above the
cut-off. Reported: precision, recall and F1 at the cut-off; recall at 1% and 0.1% false-positive
rate; ROC-AUC and PR-AUC; a threshold table; an SVG PR curve.`;

/** A round's held-out evaluation, from the scores the round recorded in reports/round-N.eval.json. */
function evalRun(run: string, roundOpt: number | undefined, json: boolean, io: Io): number {
  const reports = path.join(path.resolve(io.cwd, run), "reports");
  const rounds = fs.existsSync(reports) ? fs.readdirSync(reports).map((f) => /^round-(\d+)\.eval\.json$/.exec(f)?.[1]).filter(Boolean).map(Number) : [];
  const round = roundOpt ?? Math.max(0, ...rounds);
  const file = path.join(reports, `round-${round}.eval.json`);
  if (!round || !fs.existsSync(file)) throw new InputError(`${run}: no evaluation for round ${round || "(none finished)"}`);
  const r = JSON.parse(fs.readFileSync(file, "utf8")) as {
    cutoff: number;
    cutoff_rule: string;
    scores: { positives: number[]; negatives: number[] };
    training?: { epoch: number; lr: number; lines: number; loss: number | null };
    calibration?: { method: string; a: number; b: number; math_share: number };
    histograms?: { bins: number; positives: number[]; negatives: number[]; crawl: number[] };
  };
  const m = evaluate(r.scores.positives, r.scores.negatives, r.cutoff);
  if (json) {
    io.stdout.write(JSON.stringify({ run, round, cutoff: r.cutoff, cutoff_rule: r.cutoff_rule, ...metricsJson(m), training: r.training ?? null, calibration: r.calibration ?? null, histograms: r.histograms ?? null }, null, 2) + "\n");
  } else {
    io.stdout.write(metricsTable(m, `round ${round} held-out evaluation (cut-off ${r.cutoff_rule})`));
    if (r.training) io.stdout.write(`training: ${r.training.lines} lines, ${r.training.epoch} epochs at lr ${r.training.lr}, final loss ${r.training.loss ?? "not reported"} (chance: 0.69)\n`);
    if (r.calibration) io.stdout.write(`P(math) = ${r.calibration.method === "platt" ? `σ(${r.calibration.a.toFixed(3)} · logit(score) ${r.calibration.b < 0 ? "−" : "+"} ${Math.abs(r.calibration.b).toFixed(3)}), the crawl's math share taken as ${(100 * r.calibration.math_share).toFixed(1)}%` : "the raw score (too few held-out pages to calibrate)"}\n`);
    if (r.histograms) io.stdout.write(histogramTable(r.histograms, r.cutoff));
  }
  io.stderr.write(`eval: PR curve in ${shownPath(io.cwd, path.join(reports, `round-${round}.pr.svg`))}\n`);
  return EXIT.ok;
}

/** Score histograms side by side: held-out seeds, held-out sampled pages, every crawled page; the cut-off's bin marked. */
export function histogramTable(h: { bins: number; positives: number[]; negatives: number[]; crawl: number[] }, cutoff: number): string {
  const lines = ["score       held-out seeds  held-out negatives  crawl"];
  const cut = Math.min(h.bins - 1, Math.floor(cutoff * h.bins));
  for (let i = h.bins - 1; i >= 0; i--) {
    const range = `${(i / h.bins).toFixed(2)}-${((i + 1) / h.bins).toFixed(2)}`;
    lines.push(`${range.padEnd(12)}${String(h.positives[i] ?? 0).padStart(14)}${String(h.negatives[i] ?? 0).padStart(20)}${String(h.crawl[i] ?? 0).padStart(7)}${i === cut ? "  <- cut-off" : ""}`);
  }
  return lines.join("\n") + "\n";
}

export const command: Command = {
  name: "eval",
  summary: "classifier recall/precision on held-out seeds and negatives",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("eval", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("eval", "--model MODEL.bin --seeds DIR --negatives SOURCE,... [options]", "Evaluate a math classifier on held-out seeds and negatives.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    const extract = toExtractOptions(o);
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "eval", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (o.run) return evalRun(o.run, o.round, o.json, io);
    if (!o.model) throw new UsageError("eval: --model MODEL.bin is required (or --run DIR)");
    if (!o.seeds) throw new UsageError("eval: --seeds DIR is required");
    if (o.negatives.length === 0) throw new UsageError("eval: --negatives needs at least one source");
    const model = path.resolve(io.cwd, o.model);
    if (!fs.existsSync(model)) throw new InputError(`model file not found: ${model}`);
    const side = fs.existsSync(sidecarPath(model)) ? (JSON.parse(fs.readFileSync(sidecarPath(model), "utf8")) as { held_out_share?: number; cutoff_1pct_fpr?: number | null }) : undefined;
    const share = o.split === "all" ? 1 - 1e-12 : (o.heldOut ?? side?.held_out_share);
    if (share === undefined) throw new UsageError("eval: the model has no sidecar; give --held-out SHARE or --split all");
    if (o.report) checkFolderPath("--report", path.resolve(io.cwd, o.report), o.report);
    const session = openSession(io, o.log, undefined, "--log");
    const scorer = openScorer(model, undefined, (why) => session.warn(`scoring with the fastText binary: ${why}`), checkEngine(o.engine));
    const extractor = new Extractor(extract, o.threads);
    const lang = new LangId();
    try {
      const data: DataOptions = { extract, warc: warcReading(o, io, session.logger), heldOut: share, negCount: -1, seed: 1 };
      const d = await loadTrainingData(o.seeds, o.negatives, data, session.logger, extractor, lang, session.warn);
      const pos = await scorer.score(d.positives.heldOut.map((x) => x.text));
      const neg = await scorer.score(d.negatives.heldOut.map((x) => x.text));
      if (pos.length === 0 || neg.length === 0) throw new UsageError(`eval: nothing to evaluate (${pos.length} positives, ${neg.length} negatives in the ${o.split} split)`);
      const cutoff = o.cutoff ?? side?.cutoff_1pct_fpr ?? undefined;
      const m = evaluate(pos, neg, cutoff ?? undefined);
      const dir = path.resolve(io.cwd, o.report ?? path.dirname(model));
      fs.mkdirSync(dir, { recursive: true });
      const base = path.basename(model).replace(/\.(bin|ftz)$/, "");
      const json = { model: o.model, split: o.split, seeds: o.seeds, negatives: o.negatives, cutoff: cutoff ?? null, ...metricsJson(m) };
      writeAtomic(path.join(dir, `${base}.eval.json`), JSON.stringify(json, null, 2) + "\n");
      writeAtomic(path.join(dir, `${base}.pr.svg`), prCurveSvg(pos, neg, `${base}: ${o.split} split`));
      io.stdout.write(o.json ? JSON.stringify(json, null, 2) + "\n" : metricsTable(m, `${o.split} evaluation of ${path.basename(model)}`));
      io.stderr.write(`eval: ${pos.length} positives, ${neg.length} negatives; ROC-AUC ${m.rocAuc.toFixed(4)}; recall ${m.at1pctFpr.recall.toFixed(4)} at 1% FPR; report in ${shownPath(io.cwd, dir)}/${base}.eval.json and .pr.svg\n`);
      return EXIT.ok;
    } catch (err) {
      session.abandon();
      throw err;
    } finally {
      await Promise.all([scorer.close(), extractor.close(), lang.close(), session.close()]);
    }
  },
};
