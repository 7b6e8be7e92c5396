import fs from "node:fs";
import path from "node:path";
import { fastTextLine } from "../classify/features.js";
import { type EvalMetrics, cutoffForFpr, evaluate, pointAt, prCurveSvg } from "../classify/metrics.js";
import { metricsJson } from "../classify/report.js";
import { LinearScorePool, LinearScorer, Scorer, type TextScorer, openScorer } from "../classify/scorer.js";
import { type TextDoc, docSetHash, splitKey } from "../classify/seeds.js";
import { Reservoir, isHeldOut } from "../classify/split.js";
import { type FastTextArgs, sha256File, sidecarPath, trainModel, trainProgressLines } from "../classify/train.js";
import { InputError } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { countLine } from "../core/progress.js";
import type { TokenCounter } from "../core/tokens.js";
import { urlPrefixes } from "../dedup/url.js";
import type { WorkStore } from "../store/store.js";
import { calibrateCutoff } from "./cutoff.js";

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
  /** A warning for the user (the command writes it to stderr and the log). */
  warn?: (message: string) => void;
}

const STEPS = ["ingest", "train", "score", "select", "done"] as const;
const after = (step: string, than: string) => STEPS.indexOf(step as (typeof STEPS)[number]) > STEPS.indexOf(than as (typeof STEPS)[number]);

/*
 * Stored pages are split (and ordered for training) by their normalised URL, not by `id`
 * (doc_key: the WARC file's path @ offset), so neither depends on where
 * the WARC lies.
 */
function promotedDocs(store: WorkStore, before: number): TextDoc[] {
  return store.db.prepare("SELECT d.doc_key AS id, d.url_norm AS split, d.url, d.text FROM promoted p JOIN documents d ON d.id = p.doc_id WHERE p.round < ? ORDER BY d.id").all(before) as TextDoc[];
}

/** A seeded uniform sample of stored documents (not promoted ones) as negatives. */
function sampleNegatives(store: WorkStore, k: number, seed: number): TextDoc[] {
  const r = new Reservoir<number>(k, seed);
  const promoted = new Set((store.db.prepare("SELECT doc_id FROM promoted").all() as Array<{ doc_id: number }>).map((x) => x.doc_id));
  for (const rows of store.iterDocs<{ id: number }>("1 AS one", 5000)) for (const row of rows) if (!promoted.has(row.id)) r.offer(row.id);
  const ids = [...r.items].sort((a, b) => a - b);
  const st = store.db.prepare("SELECT doc_key AS id, url_norm AS split, url, text FROM documents WHERE id = ?");
  return ids.map((id) => st.get(id) as TextDoc);
}

async function scoreAll(store: WorkStore, round: number, scorer: TextScorer, threads: number, logger: Logger, onProgress?: (text: string) => void, signal?: AbortSignal): Promise<number> {
  store.clearRound(round, ["scores"]);
  let n = 0;
  const total = store.docCount();
  const started = Date.now();
  let scored = 0;
  const report = (k: number) => {
    scored += k;
    if (!onProgress) return;
    const s = (Date.now() - started) / 1000;
    onProgress(countLine("score", scored, total, s));
  };
  if (scorer instanceof LinearScorer) {
    // stored feature hashes (computed once, at extraction): a table lookup per word and n-gram,
    // on one thread per core sharing the model's tables; the main thread reads and writes SQLite
    const pool = new LinearScorePool(scorer.model, threads);
    let fromText = 0;
    const inflight: Array<Promise<void>> = [];
    try {
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
    } finally {
      await pool.close();
    }
    logger.log("info", "scored", { round, documents: n, engine: scorer.engine, threads: pool.threads, from_text: fromText });
    return n;
  }
  const binary = scorer as Scorer;
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
  logger.log("info", "scored", { round, documents: n, engine: scorer.engine });
  return n;
}

/** Ranked selection: by threshold, or top pages until the token budget is filled. */
function select(store: WorkStore, round: number, cfg: RoundConfig, calibrated: number, calibratedRule: string): { cutoff: number; rule: string; selected: number; tokens: number } {
  store.clearRound(round, ["selections"]);
  const ranked = store.db.prepare("SELECT s.doc_id AS id, s.score, d.tokens, d.text FROM scores s JOIN documents d ON d.id = s.doc_id WHERE s.round = ? ORDER BY s.score DESC, s.doc_id").iterate(round) as Iterable<{ id: number; score: number; tokens: number | null; text: string }>;
  const ins = store.db.prepare("INSERT INTO selections (round, doc_id) VALUES (?, ?)");
  const setTokens = store.db.prepare("UPDATE documents SET tokens = ? WHERE id = ?");
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
  store.db.transaction(() => {
    for (const id of chosen) ins.run(round, id);
    for (const [id, t] of counted) setTokens.run(t, id);
  })();
  if (!budget) {
    // a threshold selection's token total: counted for the selected pages only, once per page
    const todo = store.db.prepare("SELECT d.id, d.text FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = ? AND d.tokens IS NULL").all(round) as Array<{ id: number; text: string }>;
    store.db.transaction(() => {
      for (const d of todo) setTokens.run(cfg.countTokens(d.text), d.id);
    })();
    tokens = (store.db.prepare("SELECT coalesce(sum(d.tokens), 0) AS n FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = ?").get(round) as { n: number }).n;
  }
  return { cutoff: budget ? last : cutoff, rule, selected: chosen.length, tokens };
}

/** Domain discovery: hosts with more than domainShare of their pages selected, and their path prefixes. */
function discoverDomains(store: WorkStore, round: number, cfg: RoundConfig): number {
  store.clearRound(round, ["domain_stats", "prefix_stats"]);
  store.db
    .prepare(
      `INSERT INTO domain_stats (round, host, pages, selected, share, math_related)
       SELECT @round, d.host, count(*), count(s.doc_id), CAST(count(s.doc_id) AS REAL) / count(*),
              (CAST(count(s.doc_id) AS REAL) / count(*) > @share AND count(*) >= @min)
       FROM documents d LEFT JOIN selections s ON s.doc_id = d.id AND s.round = @round GROUP BY d.host`,
    )
    .run({ round, share: cfg.domainShare, min: cfg.minDomainPages });
  const hosts = store.db.prepare("SELECT host FROM domain_stats WHERE round = ? AND math_related = 1").all(round) as Array<{ host: string }>;
  const pages = store.db.prepare("SELECT d.path, (s.doc_id IS NOT NULL) AS sel FROM documents d LEFT JOIN selections s ON s.doc_id = d.id AND s.round = ? WHERE d.host = ?");
  const ins = store.db.prepare("INSERT INTO prefix_stats (round, prefix, host, depth, pages, selected, share) VALUES (?, ?, ?, ?, ?, ?, ?)");
  store.db.transaction(() => {
    for (const { host } of hosts) {
      const counts = new Map<string, { depth: number; pages: number; selected: number }>();
      for (const p of pages.all(round, host) as Array<{ path: string; sel: number }>) {
        for (const { prefix, depth } of urlPrefixes(host, p.path)) {
          const c = counts.get(prefix) ?? { depth, pages: 0, selected: 0 };
          c.pages++;
          c.selected += p.sel;
          counts.set(prefix, c);
        }
      }
      for (const [prefix, c] of counts) ins.run(round, prefix, host, c.depth, c.pages, c.selected, c.selected / c.pages);
    }
  })();
  return hosts.length;
}

/** Unattended annotation: accept prefixes of math-related hosts with a selected share ≥ autoAccept. */
function autoAccept(store: WorkStore, round: number, share: number): number {
  const rows = store.db.prepare("SELECT prefix, share FROM prefix_stats WHERE round = ? AND share >= ?").all(round, share) as Array<{ prefix: string; share: number }>;
  const ins = store.db.prepare("INSERT OR IGNORE INTO annotations (prefix, decision, who, at, round, note) VALUES (?, 'accept', 'auto', ?, ?, ?)");
  let n = 0;
  for (const r of rows) n += ins.run(r.prefix, new Date().toISOString(), round, `auto-accept: selected share ${r.share.toFixed(3)} >= ${share}`).changes;
  return n;
}

/** Pages under accepted prefixes that this round did not select become seeds for the next. */
function promote(store: WorkStore, round: number): number {
  const accepted = store.db.prepare("SELECT prefix FROM annotations WHERE decision = 'accept'").all() as Array<{ prefix: string }>;
  const ins = store.db.prepare("INSERT OR IGNORE INTO promoted (doc_id, round, prefix, reason) VALUES (?, ?, ?, 'under an accepted prefix, not selected')");
  const docs = store.db.prepare(
    `SELECT d.id, d.host, d.path FROM documents d LEFT JOIN selections s ON s.doc_id = d.id AND s.round = ? WHERE s.doc_id IS NULL AND d.host = ?`,
  );
  let n = 0;
  store.db.transaction(() => {
    for (const { prefix } of accepted) {
      const host = prefix.slice(0, prefix.indexOf("/"));
      for (const d of docs.all(round, host) as Array<{ id: number; host: string; path: string }>) {
        if ((d.host + d.path).startsWith(prefix)) n += ins.run(d.id, round, prefix).changes;
      }
    }
  })();
  return n;
}

function convergence(store: WorkStore, round: number): { share: number | null; newPages: number | null } {
  if (round < 2) return { share: null, newPages: null };
  const total = (store.db.prepare("SELECT count(*) AS n FROM selections WHERE round = ?").get(round) as { n: number }).n;
  const kept = (store.db.prepare("SELECT count(*) AS n FROM selections a JOIN selections b ON b.doc_id = a.doc_id AND b.round = ? WHERE a.round = ?").get(round - 1, round) as { n: number }).n;
  const fresh = (store.db.prepare("SELECT count(*) AS n FROM selections a WHERE a.round = ? AND NOT EXISTS (SELECT 1 FROM selections b WHERE b.doc_id = a.doc_id AND b.round < ?)").get(round, round) as { n: number }).n;
  return { share: total ? kept / total : 1, newPages: fresh };
}

/**
 * One round after ingestion: train on seeds + promoted pages against sampled stored pages,
 * score every stored document, select, discover domains, annotate (auto-accept), promote,
 * measure convergence. Resumes from the step a killed run reached.
 */
export async function runRound(store: WorkStore, round: number, cfg: RoundConfig, deps: RoundDeps): Promise<RoundSummary> {
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  let tStep = Date.now();
  const lap = (name: string) => {
    timings[name] = (Date.now() - tStep) / 1000;
    tStep = Date.now();
  };
  store.setRound(round, {});
  let row = store.round(round)!;
  const promotedBefore = promotedDocs(store, round);
  const positives: TextDoc[] = [...deps.seeds, ...promotedBefore];
  const held = (d: TextDoc) => isHeldOut(splitKey(d), cfg.heldOut);
  const posTrain = positives.filter((d) => !held(d));
  const posHeld = positives.filter(held);
  const negatives = sampleNegatives(store, cfg.negCount > 0 ? cfg.negCount : positives.length, cfg.seed);
  const negTrain = negatives.filter((d) => !held(d));
  lap("sample");
  if (negTrain.length === 0) {
    throw new InputError(`round ${round}: no negative training documents: the crawl stored ${store.docCount()} document(s) and the ${negatives.length} sampled from it all fall in the held-out split (--held-out ${cfg.heldOut}); crawl more pages`);
  }
  const negHeldKeys = new Set(negatives.filter(held).map((d) => d.id));
  const model = path.join(cfg.runDir, "models", `round-${round}`, "model.bin");
  if (!after(row.step, "train") || !fs.existsSync(model)) {
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
    store.setRound(round, { step: "score", model: path.relative(cfg.runDir, r.model) });
    row = store.round(round)!;
  }
  lap("train");
  const scorer = openScorer(model, cfg.scoreProcesses, (why) => deps.logger.log("warn", "binary_scoring", { round, why }), cfg.engine);
  try {
    if (!after(row.step, "score")) {
      deps.onStep?.("score");
      await scoreAll(store, round, scorer, cfg.scoreProcesses, deps.logger, deps.onProgress, deps.signal);
      store.setRound(round, { step: "select" });
    }
    lap("score");
    // held-out evaluation: held-out positives (seeds scored here, promoted from the store) vs held-out negatives
    const scoreOf = store.db.prepare("SELECT s.score FROM scores s JOIN documents d ON d.id = s.doc_id WHERE s.round = ? AND d.doc_key = ?");
    const storeScore = (key: string) => (scoreOf.get(round, key) as { score: number } | undefined)?.score;
    const seedHeld = posHeld.filter((d) => storeScore(d.id) === undefined);
    const seedScores = await scorer.score(seedHeld.map((d) => d.text));
    const posScores = [...seedScores, ...posHeld.map((d) => storeScore(d.id)).filter((x): x is number => x !== undefined)];
    const negScores = [...negHeldKeys].map(storeScore).filter((x): x is number => x !== undefined);
    // the cut-off is calibrated on every stored page of the crawl but the training negatives and
    // the promoted pages, allowing for the math among them (classify/metrics cutoffForFprInPool)
    const excluded = new Set(store.db.prepare("SELECT doc_id FROM promoted").pluck().all() as number[]);
    const idOf = store.db.prepare("SELECT id FROM documents WHERE doc_key = ?").pluck();
    for (const d of negTrain) excluded.add(idOf.get(d.id) as number);
    const pool: number[] = [];
    for (const [id, score] of store.db.prepare("SELECT doc_id, score FROM scores WHERE round = ?").raw().iterate(round) as Iterable<[number, number]>) {
      if (!excluded.has(id)) pool.push(score);
    }
    const cal = calibrateCutoff({ fpr: cfg.fpr, pool, posScores, negScores, seeds: positives.length, documents: store.docCount(), trainedOn: { positives: posTrain.length, negatives: negTrain.length } });
    if (cal.warning && cfg.threshold === undefined && cfg.tokenBudget <= 0) deps.warn?.(`round ${round}: ${cal.warning}`);
    deps.onStep?.("select");
    const sel = select(store, round, cfg, cal.cutoff, cal.rule);
    const metrics: EvalMetrics = evaluate(posScores, negScores, sel.cutoff);
    const hosts = discoverDomains(store, round, cfg);
    const accepted = cfg.autoAccept !== undefined ? autoAccept(store, round, cfg.autoAccept) : 0;
    const promoted = promote(store, round);
    const conv = convergence(store, round);
    lap("select");
    const summary: RoundSummary = {
      round,
      documents: store.docCount(),
      positives: { train: posTrain.length, held_out: posHeld.length, seeds: deps.seeds.length, promoted: promotedBefore.length },
      negatives: { train: negTrain.length, held_out: negHeldKeys.size },
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
      negatives: { train: negTrain.length, held_out: negHeldKeys.size, sample_seed: cfg.seed },
      held_out_share: cfg.heldOut,
      cutoff: summary.cutoff,
      cutoff_1pct_fpr: +cutoffForFpr(negScores, 0.01).toFixed(6),
      metrics: summary.held_out,
    };
    fs.writeFileSync(sidecarPath(model), JSON.stringify(sidecar, null, 2) + "\n");
    const reports = path.join(cfg.runDir, "reports");
    fs.mkdirSync(reports, { recursive: true });
    fs.writeFileSync(path.join(reports, `round-${round}.eval.json`), JSON.stringify({ round, model: summary.model, cutoff: summary.cutoff, cutoff_rule: sel.rule, ...summary.held_out, scores: { positives: posScores, negatives: negScores } }) + "\n");
    fs.writeFileSync(path.join(reports, `round-${round}.pr.svg`), prCurveSvg(posScores, negScores, `round ${round}: held-out seeds vs held-out sampled pages`));
    store.setRound(round, { step: "done", cutoff: summary.cutoff, cutoff_rule: sel.rule, selected: sel.selected, selected_tokens: sel.tokens, summary: JSON.stringify(summary) });
    store.db.prepare("UPDATE rounds SET finished_at = ? WHERE round = ?").run(new Date().toISOString(), round);
    deps.logger.log("info", "round_done", { ...summary });
    return summary;
  } finally {
    await scorer.close();
  }
}
