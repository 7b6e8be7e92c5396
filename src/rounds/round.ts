import fs from "node:fs";
import path from "node:path";
import { fastTextLine } from "../classify/features.js";
import { type EvalMetrics, cutoffForFpr, evaluate, pointAt, prCurveSvg } from "../classify/metrics.js";
import { metricsJson } from "../classify/report.js";
import { modelFileProblem } from "../classify/linear.js";
import { LinearScorePool, LinearScorer, Scorer, type TextScorer, openScorer } from "../classify/scorer.js";
import { type TextDoc, docSetHash, splitKey } from "../classify/seeds.js";
import { isHeldOut } from "../classify/split.js";
import { type FastTextArgs, sha256File, sidecarPath, trainModel, trainProgressLines } from "../classify/train.js";
import { InputError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { countLine } from "../core/progress.js";
import type { TokenCounter } from "../core/tokens.js";
import type { WorkStore } from "../store/store.js";
import type { RunStores } from "../store/stores.js";
import { writeAtomic } from "../core/atomic.js";
import { mergeSorted } from "../core/merge.js";
import { HIST_BINS, calibrateCutoff, crawlHistogram, crawlPool, histogram } from "./cutoff.js";
import { markCopies } from "./copies.js";
import { type NegDoc, PU_RECALL, type StoredDoc, crawlNegatives, sampleIds, samplePool, unlabeledNegatives } from "./negatives.js";
import { CALIBRATION_MIN, type Calibrator, fitCalibrator, probability, rawFor } from "../classify/calibrate.js";
import { UNDERFIT_LOSS, sizedArgs } from "../classify/train.js";
import { autoAccept, convergence, discoverDomains, promote } from "./domains.js";

const sortedDesc = (xs: number[]) => [...xs].sort((a, b) => b - a);

const median = (xs: number[]) => (xs.length === 0 ? null : +sortedDesc(xs)[Math.floor((xs.length - 1) / 2)]!.toFixed(6));

/** What a round does, resolved from the command's options. */
export interface RoundConfig {
  runDir: string;
  heldOut: number;
  negCount: number;
  seed: number;
  args: FastTextArgs;
  trainThreads: number;
  deterministic: boolean;
  /** Keep top pages until this many tokens (0: no budget). */
  tokenBudget: number;
  /** Counts tokens for the budget and the selection's total (the run's tokenizer). */
  countTokens: TokenCounter;
  /** Keep pages scoring at least this (undefined: calibrated). */
  threshold: number | undefined;
  /**
   * Select by false-positive rate: the cut-off lets at most this share of the crawl's non-math
   * pages through. Undefined: P(math) ≥ 0.5 where it can be calibrated, else this rule at 1 %.
   */
  fpr: number | undefined;
  domainShare: number;
  minDomainPages: number;
  /** Accept prefixes of math-related hosts whose selected share is at least this (undefined: none). */
  autoAccept: number | undefined;
  scoreProcesses: number;
  /** auto: the linear scorer when the model allows; binary: the fastText binary. */
  engine: "auto" | "binary";
  /**
   * Sampled pages are unlabeled: two cross-fitted models leave out those that score like the
   * seeds before the round's model is trained (classify/pu.ts).
   */
  unlabeled: boolean;
  /** --negatives: sample the negatives from these documents instead of the crawl's pages. */
  negativePool?: TextDoc[];
}

export interface RoundSummary {
  round: number;
  documents: number;
  /** Stored pages whose text a page of a lower id has too: counted once (rounds/copies.ts). */
  exact_copies: number;
  positives: { train: number; held_out: number; seeds: number; promoted: number };
  /** Sampled pages trained on and held out, and those left out as scoring like the seeds. */
  negatives: { train: number; held_out: number; sampled: number; taken_for_math: number; held_out_taken_for_math: number };
  /** fastText's arguments as trained (epoch and lr sized to the data unless given), its final training loss. */
  training: { epoch: number; lr: number; dim: number; sized: string[]; lines: number; loss: number | null };
  /** Medians of the held-out positives' and negatives' raw scores: a model that underfits leaves them close. */
  score_spread: { positives_median: number | null; negatives_median: number | null };
  /** The map from raw score to P(math) in this crawl (Platt), fitted on held-out pages. */
  calibration: Calibrator;
  model: string;
  cutoff: number;
  /** The cut-off as a calibrated probability. */
  cutoff_probability: number;
  cutoff_rule: string;
  selected: number;
  selected_tokens: number;
  held_out: Record<string, unknown>;
  /**
   * Share of held-out positives at or above the default rule's cut-off (P(math) >= 0.5, or the
   * --fpr rate), whatever the selection rule: rounds compare at one rule.
   */
  held_out_recall: number;
  /** Share of held-out positives at or above the selection's own cut-off. */
  selection_recall: number;
  math_related_hosts: number;
  accepted_prefixes: number;
  promoted: number;
  convergence_share: number | null;
  new_pages: number | null;
  seconds: number;
  /** Seconds per step of this invocation (train, score, select: selection + domains + promotion). */
  timings: Record<string, number>;
  /**
   * CPU seconds of this process per step (all its threads: scoring threads included; the fastText
   * training process is not), what a run's coordinator spends on the step.
   */
  cpu: Record<string, number>;
  /** What scored the pages: "linear" (the model's weights read in-process) or "fasttext-binary". */
  engine: string;
  /** The tokenizer of `selected_tokens` (the run's). */
  tokenizer: string;
}

export interface RoundDeps {
  logger: Logger;
  seeds: TextDoc[];
  onStep?: (step: string) => void;
  /** Progress within a step ("train 42.0%  ETA 3m", "score 120000/300000 …"), for a progress line. */
  onProgress?: (text: string) => void;
  /** An interrupt: stops training (the fastText process) and scoring between batches. */
  signal?: AbortSignal;
  /**
   * A run of several tasks: the scoring map runs as tasks (each scores its own store with the
   * round's model) instead of in this process; rejects when one fails.
   */
  scoreByTasks?: (round: number) => Promise<void>;
  /** The round's model was (re)trained: scores made with another model must not count as done. */
  onTrained?: (round: number) => void;
  /** A warning for the user (the command writes it to stderr and the log). */
  warn?: (message: string) => void;
  /**
   * A crawl of a candidate pool: extracts the pages `ids` that are outside it (rounds/outside.ts),
   * so the negative sample is drawn from every page; how many rows it changed.
   */
  fillOutside?: (ids: number[]) => Promise<number>;
}

const STEPS = ["ingest", "train", "score", "select", "done"] as const;
const after = (step: string, than: string) => STEPS.indexOf(step as (typeof STEPS)[number]) > STEPS.indexOf(than as (typeof STEPS)[number]);

/*
 * Stored pages are split (and ordered for training) by their normalised URL, not by `id`
 * (doc_key: the WARC file's path @ offset), so neither depends on where
 * the WARC lies.
 */
function promotedDocs(stores: RunStores, before: number): StoredDoc[] {
  const docs = stores.parts.flatMap(
    (p) => p.db.prepare("SELECT d.id AS doc, d.doc_key AS id, d.url_norm AS split, d.url, d.text FROM promoted p JOIN documents d ON d.id = p.doc_id WHERE p.round < ? AND d.extracted = 1 ORDER BY d.id").all(before) as StoredDoc[],
  );
  return docs.sort((a, b) => a.doc - b.doc);
}

/**
 * Scores every document of `parts` with round `round`'s model into their `scores` (the scoring
 * map: the coordinator runs it over every part of a run of one task; a scoring task over its own).
 */
export async function scoreParts(parts: WorkStore[], round: number, scorer: TextScorer, threads: number, logger: Logger, onProgress?: (text: string) => void, signal?: AbortSignal): Promise<number> {
  const total = parts.reduce((n, p) => n + p.docCount(), 0);
  const started = Date.now();
  let scored = 0;
  const report = (k: number) => {
    scored += k;
    if (!onProgress) return;
    const s = (Date.now() - started) / 1000;
    onProgress(countLine("score", scored, total, s));
  };
  let n = 0;
  if (scorer instanceof LinearScorer) {
    // stored feature hashes (computed once, at extraction): a table lookup per word and n-gram,
    // on one thread per core sharing the model's tables; the main thread reads and writes SQLite
    const pool = new LinearScorePool(scorer.model, threads);
    let fromText = 0;
    try {
      for (const store of parts) {
        store.clearRound(round, ["scores"]);
        const inflight: Array<Promise<void>> = [];
        for (const rows of store.iterFeatures(1000)) {
          if (signal?.aborted) throw new Error(`scoring of round ${round} interrupted`);
          for (const r of rows) if (!r.features) fromText++;
          const p = pool.score(rows.map((r) => r.features), rows.map((r) => r.text)).then((scores) => {
            store.putScores(round, rows.map((r, i) => [r.id, scores[i]!]));
            report(rows.length);
          });
          p.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
          inflight.push(p);
          n += rows.length;
          if (inflight.length >= 2 * Math.max(1, pool.threads)) await inflight.shift();
        }
        await Promise.all(inflight);
      }
    } finally {
      await pool.close();
    }
    logger.log("info", "scored", { round, documents: n, engine: scorer.engine, threads: pool.threads, from_text: fromText });
    return n;
  }
  const binary = scorer as Scorer;
  for (const store of parts) {
    store.clearRound(round, ["scores"]);
    const inflight: Array<Promise<void>> = [];
    for (const rows of store.iterDocs<{ id: number; text: string }>("text", 512)) {
      if (signal?.aborted) throw new Error(`scoring of round ${round} interrupted`);
      const ids = rows.map((r) => r.id);
      const p = binary.scoreLines(rows.map((r) => fastTextLine(r.text))).then((scores) => {
        store.putScores(round, ids.map((id, i) => [id, scores[i]!]));
        report(ids.length);
      });
      p.catch(() => {});
      inflight.push(p);
      n += rows.length;
      if (inflight.length >= 4) await inflight.shift();
    }
    await Promise.all(inflight);
  }
  logger.log("info", "scored", { round, documents: n, engine: scorer.engine });
  return n;
}

/** The false-positive rate of the rate rule where none is given (held-out recall is reported at it). */
export const DEFAULT_FPR = 0.01;

type Ranked = { id: number; score: number; tokens: number | null; text: string };

/**
 * Ranked selection: by threshold (a raw score), or top pages until the token budget is filled. Pages are taken
 * by score, ties by id, across all parts (their ranked streams merged).
 */
function select(stores: RunStores, round: number, cfg: RoundConfig, threshold: number | undefined, calibrated: number, calibratedRule: string): { cutoff: number; rule: string; selected: number; tokens: number } {
  for (const p of stores.parts) p.clearRound(round, ["selections"]);
  const ranked = mergeSorted(
    stores.parts.map((p) => p.db.prepare("SELECT s.doc_id AS id, s.score, d.tokens, d.text FROM scores s JOIN documents d ON d.id = s.doc_id WHERE s.round = ? ORDER BY s.score DESC, s.doc_id").iterate(round) as Iterable<Ranked>),
    (a, b) => a.score > b.score || (a.score === b.score && a.id < b.id),
  );
  // --threshold is a probability, `threshold` its raw score
  const cutoff = threshold ?? calibrated;
  const rule = threshold !== undefined ? `threshold: P(math) >= ${cfg.threshold} (raw score ${+threshold.toFixed(6)})` : cfg.tokenBudget > 0 ? `token budget ${cfg.tokenBudget}` : calibratedRule;
  const chosen: number[] = [];
  const counted: Array<[number, number]> = []; // tokens counted now, cached on the document
  let tokens = 0;
  let last = 1;
  const budget = cfg.tokenBudget > 0 && threshold === undefined;
  for (const r of ranked) {
    if (budget) {
      if (tokens >= cfg.tokenBudget) break;
      const t = r.tokens ?? cfg.countTokens(r.text); // counted only for pages the budget reaches
      if (r.tokens === null) counted.push([r.id, t]);
      tokens += t;
    } else if (r.score < cutoff) break;
    chosen.push(r.id);
    last = r.score;
  }
  // the ranked statements are still open (the loop broke early): finish them before writing
  ranked.return(undefined);
  for (const p of stores.parts) {
    const ins = p.db.prepare("INSERT INTO selections (round, doc_id) VALUES (?, ?)");
    const setTokens = p.db.prepare("UPDATE documents SET tokens = ? WHERE id = ?");
    p.db.transaction(() => {
      for (const id of chosen) if (stores.partOf(id) === p) ins.run(round, id);
      for (const [id, t] of counted) if (stores.partOf(id) === p) setTokens.run(t, id);
    })();
  }
  if (!budget) {
    // a threshold selection's token total: counted for the selected pages only, once per page
    for (const p of stores.parts) {
      const setTokens = p.db.prepare("UPDATE documents SET tokens = ? WHERE id = ?");
      const todo = p.db.prepare("SELECT d.id, d.text FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = ? AND d.tokens IS NULL").all(round) as Array<{ id: number; text: string }>;
      p.db.transaction(() => {
        for (const d of todo) setTokens.run(cfg.countTokens(d.text), d.id);
      })();
    }
    tokens = stores.sum("SELECT coalesce(sum(d.tokens), 0) FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = ?", round);
  }
  return { cutoff: budget ? last : cutoff, rule, selected: chosen.length, tokens };
}

/**
 * One round after ingestion: train on seeds + promoted pages against sampled stored pages,
 * score every stored document, select, discover domains, annotate (auto-accept), promote,
 * measure convergence. Resumes from the step a killed run reached.
 */
export async function runRound(stores: RunStores, round: number, cfg: RoundConfig, deps: RoundDeps): Promise<RoundSummary> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  let tStep = Date.now();
  const cpu: Record<string, number> = {};
  let cpuStep = process.cpuUsage();
  const lap = (name: string) => {
    timings[name] = (Date.now() - tStep) / 1000;
    tStep = Date.now();
    const d = process.cpuUsage(cpuStep);
    cpu[name] = +((d.user + d.system) / 1e6).toFixed(3);
    cpuStep = process.cpuUsage();
  };
  const store = stores.coord;
  store.setRound(round, {});
  let row = store.round(round)!;
  const copies = markCopies(stores);
  const promotedBefore = promotedDocs(stores, round);
  const positives: TextDoc[] = [...deps.seeds, ...promotedBefore];
  const held = (d: TextDoc) => isHeldOut(splitKey(d), cfg.heldOut);
  const posTrain = positives.filter((d) => !held(d));
  const posHeld = positives.filter(held);
  const k = cfg.negCount > 0 ? cfg.negCount : positives.length;
  const model = path.join(cfg.runDir, "models", `round-${round}`, "model.bin");
  // a model damaged in place (a full disk under a version that wrote it directly) is trained again
  const damaged = after(row.step, "train") ? modelFileProblem(model) : undefined;
  if (damaged && damaged !== "missing") deps.warn?.(`round ${round}: ${path.relative(cfg.runDir, model)} is damaged (${damaged}): training it again`);
  const training = !after(row.step, "train") || !!damaged;
  if (!cfg.negativePool && training && deps.fillOutside) {
    // the k lowest sample keys over every page not dropped by an extraction; a page that a
    // fill drops gives its place to the next one, hence the loop
    while ((await deps.fillOutside(sampleIds(stores, k, cfg.seed, true))) > 0) if (deps.signal?.aborted) throw new Error("interrupted");
  }
  const sampled: NegDoc[] = cfg.negativePool ? samplePool(cfg.negativePool, k, cfg.seed) : crawlNegatives(stores, round, k, cfg.seed, training);
  lap("sample");
  // the sampled pages are unlabeled: those that score like the seeds are left out (classify/pu),
  // decided when the model is trained and kept in meta `pu:N` for a resumed round
  const pu = await unlabeledNegatives(stores, round, cfg, deps, training, posTrain, posHeld, sampled.filter((d) => !held(d)), sampled.filter(held));
  const negTrain = pu.train;
  lap("unlabeled");
  if (negTrain.length === 0) {
    const from = cfg.negativePool ? `--negatives holds ${cfg.negativePool.length} document(s)` : `the crawl stored ${stores.docCount()} document(s)`;
    throw new InputError(`round ${round}: no negative training documents: ${from} and the ${sampled.length} sampled from it ${pu.removed > 0 ? `all fall in the held-out split (--held-out ${cfg.heldOut}) or score like the seeds (${pu.removed})` : `all fall in the held-out split (--held-out ${cfg.heldOut})`}; ${cfg.negativePool ? "give a larger pool of web pages" : "crawl more pages"}`);
  }
  const negHeld = pu.held;
  const args = sizedArgs(cfg.args, posTrain.length + negTrain.length);
  // the training loss, kept for a resumed round
  let loss: number | null = training ? null : ((JSON.parse(store.meta(`train:${round}`) ?? "{}") as { loss?: number }).loss ?? null);
  if (training) {
    deps.onStep?.("train");
    const onProgress = deps.onProgress;
    const r = await trainModel(posTrain, negTrain, model, {
      args: cfg.args,
      threads: cfg.trainThreads,
      deterministic: cfg.deterministic,
      seed: cfg.seed,
      ...(onProgress ? { onProgress: trainProgressLines(onProgress) } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    loss = r.loss ?? null;
    store.setMeta(`train:${round}`, JSON.stringify({ loss }));
    deps.onTrained?.(round);
    store.setRound(round, { step: "score", model: path.relative(cfg.runDir, r.model) });
    row = store.round(round)!;
  }
  lap("train");
  const scorer = openScorer(model, cfg.scoreProcesses, (why) => deps.logger.log("warn", "binary_scoring", { round, why }), cfg.engine);
  try {
    if (!after(row.step, "score")) {
      deps.onStep?.("score");
      if (deps.scoreByTasks) await deps.scoreByTasks(round);
      else await scoreParts(stores.parts, round, scorer, cfg.scoreProcesses, deps.logger, deps.onProgress, deps.signal);
      store.setRound(round, { step: "select" });
    }
    lap("score");
    // held-out evaluation: held-out positives (seeds scored here, promoted from the store) vs held-out negatives
    const scoreOf = new Map(stores.parts.map((p) => [p, p.db.prepare("SELECT score FROM scores WHERE round = ? AND doc_id = ?").pluck()]));
    const storeScore = (id: number) => scoreOf.get(stores.partOf(id))!.get(round, id) as number | undefined;
    const seedHeld = posHeld.filter((d) => !("doc" in d));
    const seedScores = await scorer.score(seedHeld.map((d) => d.text));
    const posScores = [...seedScores, ...posHeld.flatMap((d) => ("doc" in d ? [storeScore((d as StoredDoc).doc)] : [])).filter((x): x is number => x !== undefined)];
    // held-out negatives: stored pages from the store's scores, --negatives documents scored here
    const poolHeld = negHeld.filter((d) => d.doc === undefined);
    const negScores = [...negHeld.flatMap((d) => (d.doc !== undefined ? [storeScore(d.doc)] : [])).filter((x): x is number => x !== undefined), ...(await scorer.score(poolHeld.map((d) => d.text)))];
    // the cut-off is calibrated on every stored page of the crawl but the training negatives and
    // the promoted pages, allowing for the math among them (classify/metrics cutoffForFprInRanked)
    // (and exact copies: a text counts once)
    const pool = crawlPool(stores, round, negTrain.flatMap((d) => (d.doc !== undefined ? [d.doc] : [])));
    const crawlHist = crawlHistogram(stores, round);
    const cal = calibrateCutoff({ fpr: cfg.fpr ?? DEFAULT_FPR, pool, posScores, negScores, seeds: positives.length, documents: stores.docCount(), trainedOn: { positives: posTrain.length, negatives: negTrain.length } });
    // raw score → P(math) in this crawl, weighted by its math share: the mixture estimate, else
    // the share of the sample taken for math, else even odds
    const sampledCount = negTrain.length + pu.removed + pu.held.length + pu.heldRemoved;
    const share: [number, string] =
      cfg.unlabeled && pu.judged && sampledCount > 0
        ? [Math.min(0.99, (pu.removed + pu.heldRemoved) / sampledCount / PU_RECALL), "the share of the sampled pages that score like the seeds"]
        : cal.mathShare !== undefined
          ? [cal.mathShare, "the mixture estimate on the crawl's scores"]
          : [0.5, "unknown: even odds"];
    const calibrator = fitCalibrator(posScores, negScores, share[0], share[1]);
    if (cfg.threshold !== undefined && calibrator.method === "none") deps.warn?.(`round ${round}: --threshold ${cfg.threshold} is taken as a raw score: ${calibrator.positives} held-out positives and ${calibrator.negatives} held-out negatives are too few to calibrate probabilities (${CALIBRATION_MIN} of each needed)`);
    // the default: P(math) >= 0.5 where the map is fitted; else (or with --fpr) the rate rule
    const byProbability = cfg.threshold === undefined && cfg.tokenBudget <= 0 && cfg.fpr === undefined && calibrator.method !== "none";
    if (cal.warning && cfg.threshold === undefined && cfg.tokenBudget <= 0 && !byProbability) deps.warn?.(`round ${round}: ${cal.warning}`);
    const rateRule = byProbability ? { cutoff: rawFor(calibrator, 0.5), rule: `calibrated: P(math) >= 0.5 (the crawl's math share estimated at ${(100 * calibrator.math_share).toFixed(1)}%, ${calibrator.math_share_from})` } : cal;
    deps.onStep?.("select");
    const sel = select(stores, round, cfg, cfg.threshold === undefined ? undefined : rawFor(calibrator, cfg.threshold), rateRule.cutoff, rateRule.rule);
    const metrics: EvalMetrics = evaluate(posScores, negScores, sel.cutoff);
    const hosts = discoverDomains(stores, round, cfg);
    const accepted = cfg.autoAccept !== undefined ? autoAccept(store, round, cfg.autoAccept) : 0;
    const promoted = promote(stores, round);
    const conv = convergence(stores, round);
    lap("select");
    const spread = { positives_median: median(posScores), negatives_median: median(negScores) };
    const underfit = (loss !== null && loss > UNDERFIT_LOSS) || (spread.positives_median !== null && spread.negatives_median !== null && spread.positives_median - spread.negatives_median < 0.5);
    if (underfit) {
      deps.warn?.(
        `round ${round}: the model underfits: training loss ${loss ?? "unknown"} (chance is 0.69), held-out positives' median score ${spread.positives_median} against ${spread.negatives_median} for held-out negatives; train longer (--epoch, --lr) or on more seeds`,
      );
    }
    const summary: RoundSummary = {
      round,
      documents: stores.docCount(),
      exact_copies: copies,
      positives: { train: posTrain.length, held_out: posHeld.length, seeds: deps.seeds.length, promoted: promotedBefore.length },
      negatives: { train: negTrain.length, held_out: negHeld.length, sampled: sampled.length, taken_for_math: pu.removed, held_out_taken_for_math: pu.heldRemoved },
      training: { epoch: args.epoch, lr: args.lr, dim: args.dim, sized: args.sized, lines: posTrain.length + negTrain.length, loss: loss === null ? null : +loss.toFixed(6) },
      score_spread: spread,
      calibration: calibrator,
      model: path.relative(cfg.runDir, model),
      cutoff: +sel.cutoff.toFixed(6),
      cutoff_probability: +probability(calibrator, sel.cutoff).toFixed(6),
      cutoff_rule: sel.rule,
      selected: sel.selected,
      selected_tokens: sel.tokens,
      held_out: metricsJson(metrics),
      held_out_recall: +pointAt(sortedDesc(posScores), sortedDesc(negScores), rateRule.cutoff).recall.toFixed(6),
      selection_recall: +metrics.atCutoff.recall.toFixed(6),
      math_related_hosts: hosts,
      accepted_prefixes: accepted,
      promoted,
      convergence_share: conv.share === null ? null : +conv.share.toFixed(6),
      new_pages: conv.newPages,
      seconds: (Date.now() - t0) / 1000,
      timings,
      cpu,
      engine: scorer.engine,
      tokenizer: store.tokenizer(),
    };
    const sidecar = {
      format: 1,
      created: new Date().toISOString(),
      model: { file: "model.bin", bytes: fs.statSync(model).size, sha256: sha256File(model) },
      args: { ...args, thread: cfg.deterministic ? 1 : cfg.trainThreads, deterministic: cfg.deterministic, shuffle_seed: cfg.seed },
      loss: summary.training.loss,
      round,
      seeds: { hash: docSetHash(positives), train: posTrain.length, held_out: posHeld.length, promoted: promotedBefore.length },
      negatives: { ...summary.negatives, sample_seed: cfg.seed, unlabeled: cfg.unlabeled },
      calibration: calibrator,
      held_out_share: cfg.heldOut,
      cutoff: summary.cutoff,
      cutoff_1pct_fpr: +cutoffForFpr(negScores, 0.01).toFixed(6),
      metrics: summary.held_out,
    };
    writeAtomic(sidecarPath(model), JSON.stringify(sidecar, null, 2) + "\n");
    const reports = path.join(cfg.runDir, "reports");
    fs.mkdirSync(reports, { recursive: true });
    writeAtomic(path.join(reports, `round-${round}.eval.json`), JSON.stringify({
        round,
        model: summary.model,
        // unrounded: scores pile up just under 1.0, where six decimals move pages across
        cutoff: sel.cutoff,
        cutoff_rule: sel.rule,
        ...summary.held_out,
        training: summary.training,
        calibration: calibrator,
        scores: { positives: posScores, negatives: negScores },
        histograms: { bins: HIST_BINS, positives: histogram(posScores), negatives: histogram(negScores), crawl: crawlHist },
      }) + "\n");
    writeAtomic(path.join(reports, `round-${round}.pr.svg`), prCurveSvg(posScores, negScores, `round ${round}: held-out seeds vs held-out sampled pages`));
    store.setRound(round, { step: "done", cutoff: summary.cutoff, cutoff_rule: sel.rule, selected: sel.selected, selected_tokens: sel.tokens, summary: JSON.stringify(summary) });
    store.db.prepare("UPDATE rounds SET finished_at = ? WHERE round = ?").run(new Date().toISOString(), round);
    deps.logger.log("info", "round_done", { ...summary });
    return summary;
  } finally {
    await scorer.close();
  }
}
