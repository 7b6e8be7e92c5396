import fs from "node:fs";
import path from "node:path";
import { fastTextLine } from "../classify/features.js";
import { type EvalMetrics, cutoffForFpr, evaluate, pointAt, prCurveSvg } from "../classify/metrics.js";
import { metricsJson } from "../classify/report.js";
import { modelFileProblem } from "../classify/linear.js";
import { LinearScorePool, LinearScorer, Scorer, type TextScorer, openScorer } from "../classify/scorer.js";
import { type TextDoc, docSetHash, splitKey } from "../classify/seeds.js";
import { Reservoir, isHeldOut } from "../classify/split.js";
import { type FastTextArgs, sha256File, sidecarPath, trainModel, trainProgressLines } from "../classify/train.js";
import { InputError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { countLine } from "../core/progress.js";
import type { TokenCounter } from "../core/tokens.js";
import type { WorkStore } from "../store/store.js";
import type { RunStores } from "../store/stores.js";
import { writeAtomic } from "../core/atomic.js";
import { mergeSorted } from "../core/merge.js";
import { calibrateCutoff } from "./cutoff.js";
import { autoAccept, convergence, discoverDomains, promote } from "./domains.js";

const sortedDesc = (xs: number[]) => [...xs].sort((a, b) => b - a);

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
  /** Calibration: the cut-off lets at most this share of held-out negatives through. */
  fpr: number;
  domainShare: number;
  minDomainPages: number;
  /** Accept prefixes of math-related hosts whose selected share is at least this (undefined: none). */
  autoAccept: number | undefined;
  scoreProcesses: number;
  /** auto: the linear scorer when the model allows; binary: the fastText binary. */
  engine: "auto" | "binary";
}

export interface RoundSummary {
  round: number;
  documents: number;
  positives: { train: number; held_out: number; seeds: number; promoted: number };
  negatives: { train: number; held_out: number };
  model: string;
  cutoff: number;
  cutoff_rule: string;
  selected: number;
  selected_tokens: number;
  held_out: Record<string, unknown>;
  /**
   * Share of held-out positives at or above the calibrated cut-off (at most --fpr of held-out
   * sampled pages above it), whatever the selection rule: rounds compare at one false-positive rate.
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
}

const STEPS = ["ingest", "train", "score", "select", "done"] as const;
const after = (step: string, than: string) => STEPS.indexOf(step as (typeof STEPS)[number]) > STEPS.indexOf(than as (typeof STEPS)[number]);

/** A stored page used as a positive or negative: `doc` is its id in the run's stores. */
type StoredDoc = TextDoc & { doc: number };

/*
 * Stored pages are split (and ordered for training) by their normalised URL, not by `id`
 * (doc_key: the WARC file's path @ offset), so neither depends on where
 * the WARC lies.
 */
function promotedDocs(stores: RunStores, before: number): StoredDoc[] {
  const docs = stores.parts.flatMap(
    (p) => p.db.prepare("SELECT d.id AS doc, d.doc_key AS id, d.url_norm AS split, d.url, d.text FROM promoted p JOIN documents d ON d.id = p.doc_id WHERE p.round < ? ORDER BY d.id").all(before) as StoredDoc[],
  );
  return docs.sort((a, b) => a.doc - b.doc);
}

/**
 * A seeded uniform sample of stored documents (not promoted ones) as negatives: a reservoir fed
 * every document in id order, the parts' streams merged, so the sample does not depend on how
 * the run is split into tasks.
 */
function sampleNegatives(stores: RunStores, k: number, seed: number): StoredDoc[] {
  const r = new Reservoir<number>(k, seed);
  const promoted = new Set(stores.parts.flatMap((p) => p.db.prepare("SELECT doc_id FROM promoted").pluck().all() as number[]));
  const ids = (p: WorkStore) => (function* () {
    for (const rows of p.iterDocs<{ id: number }>("1 AS one", 5000)) for (const row of rows) yield row.id;
  })();
  for (const id of mergeSorted(stores.parts.map(ids), (a, b) => a < b)) if (!promoted.has(id)) r.offer(id);
  const chosen = [...r.items].sort((a, b) => a - b);
  const st = new Map(stores.parts.map((p) => [p, p.db.prepare("SELECT id AS doc, doc_key AS id, url_norm AS split, url, text FROM documents WHERE id = ?")]));
  return chosen.map((id) => st.get(stores.partOf(id))!.get(id) as StoredDoc);
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

type Ranked = { id: number; score: number; tokens: number | null; text: string };

/**
 * Ranked selection: by threshold, or top pages until the token budget is filled. Pages are taken
 * by score, ties by id, across all parts (their ranked streams merged).
 */
function select(stores: RunStores, round: number, cfg: RoundConfig, calibrated: number, calibratedRule: string): { cutoff: number; rule: string; selected: number; tokens: number } {
  for (const p of stores.parts) p.clearRound(round, ["selections"]);
  const ranked = mergeSorted(
    stores.parts.map((p) => p.db.prepare("SELECT s.doc_id AS id, s.score, d.tokens, d.text FROM scores s JOIN documents d ON d.id = s.doc_id WHERE s.round = ? ORDER BY s.score DESC, s.doc_id").iterate(round) as Iterable<Ranked>),
    (a, b) => a.score > b.score || (a.score === b.score && a.id < b.id),
  );
  const cutoff = cfg.threshold ?? calibrated;
  const rule = cfg.threshold !== undefined ? `threshold ${cfg.threshold}` : cfg.tokenBudget > 0 ? `token budget ${cfg.tokenBudget}` : calibratedRule;
  const chosen: number[] = [];
  const counted: Array<[number, number]> = []; // tokens counted now, cached on the document
  let tokens = 0;
  let last = 1;
  const budget = cfg.tokenBudget > 0 && cfg.threshold === undefined;
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
  const promotedBefore = promotedDocs(stores, round);
  const positives: TextDoc[] = [...deps.seeds, ...promotedBefore];
  const held = (d: TextDoc) => isHeldOut(splitKey(d), cfg.heldOut);
  const posTrain = positives.filter((d) => !held(d));
  const posHeld = positives.filter(held);
  const negatives = sampleNegatives(stores, cfg.negCount > 0 ? cfg.negCount : positives.length, cfg.seed);
  const negTrain = negatives.filter((d) => !held(d));
  lap("sample");
  if (negTrain.length === 0) {
    throw new InputError(`round ${round}: no negative training documents: the crawl stored ${stores.docCount()} document(s) and the ${negatives.length} sampled from it all fall in the held-out split (--held-out ${cfg.heldOut}); crawl more pages`);
  }
  const negHeld = negatives.filter(held).map((d) => d.doc);
  const model = path.join(cfg.runDir, "models", `round-${round}`, "model.bin");
  // a model damaged in place (a full disk under a version that wrote it directly) is trained again
  const damaged = after(row.step, "train") ? modelFileProblem(model) : undefined;
  if (damaged && damaged !== "missing") deps.warn?.(`round ${round}: ${path.relative(cfg.runDir, model)} is damaged (${damaged}): training it again`);
  if (!after(row.step, "train") || damaged) {
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
    const negScores = negHeld.map(storeScore).filter((x): x is number => x !== undefined);
    // the cut-off is calibrated on every stored page of the crawl but the training negatives and
    // the promoted pages, allowing for the math among them (classify/metrics cutoffForFprInPool)
    const excluded = new Set(stores.parts.flatMap((p) => p.db.prepare("SELECT doc_id FROM promoted").pluck().all() as number[]));
    for (const d of negTrain) excluded.add(d.doc);
    const pool: number[] = [];
    for (const p of stores.parts) {
      for (const [id, score] of p.db.prepare("SELECT doc_id, score FROM scores WHERE round = ?").raw().iterate(round) as Iterable<[number, number]>) {
        if (!excluded.has(id)) pool.push(score);
      }
    }
    const cal = calibrateCutoff({ fpr: cfg.fpr, pool, posScores, negScores, seeds: positives.length, documents: stores.docCount(), trainedOn: { positives: posTrain.length, negatives: negTrain.length } });
    if (cal.warning && cfg.threshold === undefined && cfg.tokenBudget <= 0) deps.warn?.(`round ${round}: ${cal.warning}`);
    deps.onStep?.("select");
    const sel = select(stores, round, cfg, cal.cutoff, cal.rule);
    const metrics: EvalMetrics = evaluate(posScores, negScores, sel.cutoff);
    const hosts = discoverDomains(stores, round, cfg);
    const accepted = cfg.autoAccept !== undefined ? autoAccept(store, round, cfg.autoAccept) : 0;
    const promoted = promote(stores, round);
    const conv = convergence(stores, round);
    lap("select");
    const summary: RoundSummary = {
      round,
      documents: stores.docCount(),
      positives: { train: posTrain.length, held_out: posHeld.length, seeds: deps.seeds.length, promoted: promotedBefore.length },
      negatives: { train: negTrain.length, held_out: negHeld.length },
      model: path.relative(cfg.runDir, model),
      cutoff: +sel.cutoff.toFixed(6),
      cutoff_rule: sel.rule,
      selected: sel.selected,
      selected_tokens: sel.tokens,
      held_out: metricsJson(metrics),
      held_out_recall: +pointAt(sortedDesc(posScores), sortedDesc(negScores), cal.cutoff).recall.toFixed(6),
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
      args: { ...cfg.args, thread: cfg.deterministic ? 1 : cfg.trainThreads, deterministic: cfg.deterministic, shuffle_seed: cfg.seed },
      round,
      seeds: { hash: docSetHash(positives), train: posTrain.length, held_out: posHeld.length, promoted: promotedBefore.length },
      negatives: { train: negTrain.length, held_out: negHeld.length, sample_seed: cfg.seed },
      held_out_share: cfg.heldOut,
      cutoff: summary.cutoff,
      cutoff_1pct_fpr: +cutoffForFpr(negScores, 0.01).toFixed(6),
      metrics: summary.held_out,
    };
    writeAtomic(sidecarPath(model), JSON.stringify(sidecar, null, 2) + "\n");
    const reports = path.join(cfg.runDir, "reports");
    fs.mkdirSync(reports, { recursive: true });
    writeAtomic(path.join(reports, `round-${round}.eval.json`), JSON.stringify({ round, model: summary.model, cutoff: summary.cutoff, cutoff_rule: sel.rule, ...summary.held_out, scores: { positives: posScores, negatives: negScores } }) + "\n");
    writeAtomic(path.join(reports, `round-${round}.pr.svg`), prCurveSvg(posScores, negScores, `round ${round}: held-out seeds vs held-out sampled pages`));
    store.setRound(round, { step: "done", cutoff: summary.cutoff, cutoff_rule: sel.rule, selected: sel.selected, selected_tokens: sel.tokens, summary: JSON.stringify(summary) });
    store.db.prepare("UPDATE rounds SET finished_at = ? WHERE round = ?").run(new Date().toISOString(), round);
    deps.logger.log("info", "round_done", { ...summary });
    return summary;
  } finally {
    await scorer.close();
  }
}
