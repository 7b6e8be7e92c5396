import { performance } from "node:perf_hooks";
import { checkFolderPath } from "../core/outputs.js";
import { writeAtomic } from "../core/atomic.js";
import fs from "node:fs";
import { type TokenizerName, checkTokenizer, tokenCounter } from "../core/tokens.js";
import { checkEngine } from "../config/classify.js";
import path from "node:path";
import { type CleanSummary, cleanRound } from "../clean/clean.js";
import { writeRunReport } from "../report/write.js";
import { batchApi } from "../executors/k8s.js";
import type { BenchmarkIndex } from "../decont/index.js";
import { benchmarkIndex, benchmarkOptionSpecs } from "../config/clean.js";
import { exportSpecs, shardProgress } from "./export.js";
import { runSummary, summaryLine } from "./summary.js";
import { DEFAULT_MINHASH } from "../dedup/minhash.js";
import { exportRound } from "../export/export.js";
import type { Manifest } from "../export/verify.js";
import { fastTextArgs, trainOptionSpecs } from "../config/classify.js";
import { extractOptionSpecs, toExtractOptions } from "../config/extract.js";
import { roundOptionSpecs, validateRoundOptions } from "../config/rounds.js";
import { warcOptionSpecs } from "../config/warc.js";
import { EXIT, InputError, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, type ParsedCommandLine, parseCommandLine, renderHelp } from "../core/options.js";
import { packageRoot, shownPath } from "../core/paths.js";
import { Progress, formatRate } from "../core/progress.js";
import { LangId } from "../extract/lang.js";
import { Extractor } from "../extract/pool.js";
import { type IngestStats, localSize, whyNoDocuments } from "../rounds/ingest.js";
import { type RoundConfig, type RoundSummary, runRound } from "../rounds/round.js";
import { OutsideReader } from "../rounds/outside.js";
import { convergedAt } from "../rounds/stop.js";
import { loadSeeds } from "../rounds/seeds.js";
import { type DataOptions, loadNegatives } from "../classify/data.js";
import type { TextDoc } from "../classify/seeds.js";
import { RunLock } from "../store/lock.js";
import { RunStores } from "../store/stores.js";
import { frozenPlan, readPlan } from "../plan/plan.js";
import { dedupUrlsAcrossTasks } from "../plan/crawl.js";
import { type FailedTask, allCrawled, checkCrawlMode, cleanByTasks, crawlGate, crawlInProcess, clearScoreMarkers, crawlByK8s, crawlByTasks, k8sDryRun, scoreByTasks, slurmDryRun, submitCrawl } from "./launch.js";
import { hasSbatch } from "../executors/slurm.js";
import { WorkStore } from "../store/store.js";
import { absoluteSpec, isLocalSpec, resolveSources } from "../warc/source.js";
import { openSession } from "./session.js";
import { warcReading } from "./warcrun.js";

export const roundSpecs = {
  ...roundOptionSpecs,
  json: { type: "boolean", default: false, help: "print the round summaries as JSON (field names in docs/reference.md, section Rounds)" },
  ...trainOptionSpecs,
  ...extractOptionSpecs,
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

export const runSpecs = {
  maxRounds: { type: "number", default: 3, arg: "N", help: "stop after this many rounds" },
  stopShare: { type: "number", default: 0.98, arg: "SHARE", help: "stop when this share of a round's selection was already selected in the round before (the paper: ~98%)" },
  ...roundSpecs,
  ...benchmarkOptionSpecs,
  out: { type: "string", arg: "DIR", help: "export folder for the shards and manifest.json (default: DIR/export)" },
  shardTokens: exportSpecs.shardTokens,
} as const satisfies OptionSpecs;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Opts = Mutable<ParsedCommandLine<typeof runSpecs>["options"]>;

function readPreviousConfig(runDir: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** This process's CPU so far (all its threads; not the processes it started), in seconds. */
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return +((u.user + u.system) / 1e6).toFixed(3);
};

/** The bundled crawl, named relative to the package. */
const SAMPLE_CRAWL = "data/crawl-sample.warc.gz";

/**
 * Options that belong to one invocation or one machine, not to the run: they are not taken
 * over from the run's config.json. (`sources` is, while round 1 has not finished.)
 */
const PER_INVOCATION = new Set(["run", "json", "threads", "tasks", "executor", "workers", "slurmPartition", "slurmAccount", "slurmQos", "slurmTime", "slurmMem", "slurmCpus", "k8sImage", "k8sNamespace", "k8sPvc", "k8sMount", "k8sCpus", "k8sMem", "k8sServiceAccount", "trainThreads", "scoreProcesses", "processes", "log", "allowFailedSources", "sources", "maxRounds", "stopShare", "command", "sample"]);

/** `round` (one round) and `run` (rounds until convergence or --max-rounds). */
export async function runRounds(command: "round" | "run", argv: string[], io: Io): Promise<number> {
  const specs = command === "run" ? runSpecs : roundSpecs;
  const cl = parseCommandLine(command, specs, argv, io.cwd) as ParsedCommandLine<typeof runSpecs>;
  if (cl.help) {
    io.stdout.write(
      renderHelp(
        command,
        "[--run DIR] [options]",
        command === "run" ? "Run crawl-filter rounds until convergence or --max-rounds, on the bundled sample by default." : "Run the next crawl-filter round of a run (round 1 crawls the sources).",
        specs,
        "Round 1 streams the sources, extracts, drops URL duplicates and stores documents; every round trains on the\nseeds plus promoted pages against a seeded sample of stored pages, scores all stored documents, selects,\nfinds math-related hosts and their URL prefixes, applies annotations (--auto-accept, or `mathcorpus domains`)\nand promotes unselected pages under accepted prefixes to seeds. Later rounds never re-read WARCs.\nA later invocation keeps the run's settings (its config.json) unless they are given again. One process at a\ntime works on a run (another exits with code 2); Ctrl-C or SIGTERM stops at once, and a rerun resumes.",
      ),
    );
    return EXIT.ok;
  }
  const o = { ...(cl.options as Opts) };
  o.maxRounds ??= 3;
  o.stopShare ??= 0.98;
  // a later invocation on the same run keeps the run's settings (selection rule, annotation
  // rule, seeds, classifier and extraction options) unless it sets them again: `mathcorpus round
  // --run DIR` continues the run as it was started
  checkFolderPath("--run", path.resolve(io.cwd, o.run), o.run, "run directory");
  if (o.out) checkFolderPath("--out", path.resolve(io.cwd, o.out), o.out);
  const previous = readPreviousConfig(path.resolve(io.cwd, o.run));
  const taken: string[] = [];
  /** Options set by this invocation or taken from the run: the sample's defaults leave them alone. */
  const set = new Set(cl.given);
  if (previous) {
    for (const [k, v] of Object.entries(previous)) {
      if (k in specs && !PER_INVOCATION.has(k) && !cl.given.has(k) && v !== undefined && v !== null) {
        if (JSON.stringify((o as Record<string, unknown>)[k]) !== JSON.stringify(v)) taken.push(k);
        (o as Record<string, unknown>)[k] = v;
        set.add(k);
      }
    }
  }
  validateRoundOptions(o);
  const args = fastTextArgs(o);
  const extract = toExtractOptions(o);
  // the bundled sample is an unattended demo whose crawl is 13 % math (PROVENANCE.md): its
  // random negatives carry math too, which makes a cut-off calibrated on them swing with the
  // split; it selects by token budget instead (the paper's 40B tokens, scaled to 40,000) and
  // accepts prefixes by rule. Only a run started without --sources is one (config.json
  // `sample`): later invocations of another run without --sources continue that run.
  const wasSample = previous ? previous.sample === true || (previous.sample === undefined && JSON.stringify(previous.sources) === JSON.stringify([SAMPLE_CRAWL])) : undefined;
  const sample = o.sources.length === 0 && wasSample !== false;
  if (o.sources.length === 0 && !sample && Array.isArray(previous?.sources)) o.sources = previous.sources as string[];
  // the bundled crawl is named relative to the package, so its document keys are the same
  // wherever mathcorpus is installed
  if (sample) o.sources = [SAMPLE_CRAWL];
  // a run's files are named by their absolute path (in config.json, the files done and each
  // page's doc_key): a later invocation from another folder reads and skips the same files
  else o.sources = o.sources.map((s) => absoluteSpec(s, io.cwd));
  if (!o.seeds) o.seeds = path.join(packageRoot(), "seeds");
  if (sample) {
    o.tokenBudget ??= 40_000;
    o.autoAccept ??= 0.5;
    // the recall reference: its random pages are 13 % math, so 1 % FPR would measure nothing
    if (!set.has("fpr")) o.fpr = 0.15;
  }
  if (!Number.isInteger(o.maxRounds) || o.maxRounds < 1) throw new UsageError(`--max-rounds expects a whole number ≥ 1, got ${o.maxRounds}`);
  if (command === "run" && !(o.shardTokens > 0)) throw new UsageError(`--shard-tokens expects a number > 0, got ${o.shardTokens}`);
  // paths given here are kept in config.json for later invocations, which may run elsewhere
  if (cl.given.has("benchmark")) o.benchmark = o.benchmark.map((b) => path.resolve(io.cwd, b));
  if (cl.given.has("negatives")) o.negatives = o.negatives.map((s) => absoluteSpec(s, io.cwd));
  if (cl.given.has("out") && o.out !== undefined) o.out = path.resolve(io.cwd, o.out);
  const config = { command, sample, ...o };
  if (cl.dryRun) {
    io.stdout.write(JSON.stringify(config, null, 2) + "\n");
    // with Slurm: the scripts and the sbatch calls it would make; nothing is written or submitted
    if (o.executor === "slurm") io.stdout.write(await slurmDryRun(command, o, path.resolve(io.cwd, o.run), sample ? { ...io, cwd: packageRoot() } : io));
    // with Kubernetes: the crawl Job it would create
    if (o.executor === "k8s") io.stdout.write(k8sDryRun(o, path.resolve(io.cwd, o.run)));
    return EXIT.ok;
  }
  const runDir = path.resolve(io.cwd, o.run);
  if (o.executor === "slurm" && !hasSbatch(io.env)) {
    throw new UsageError("--executor slurm submits with sbatch, which is not on PATH here: run this on a node of the cluster (a login node), or use --executor local");
  }
  // with Kubernetes: a configuration that cannot be read is bad usage, said before the run is made
  if (o.executor === "k8s") batchApi(io.env);
  // the benchmarks are read before the crawl: a bad file fails now, not after the rounds
  const benchmarks = command === "run" ? await benchmarkIndex(o, io.cwd, "run") : undefined;
  const lock = RunLock.acquire(runDir, command);
  try {
    if (taken.length > 0) io.stderr.write(`${command}: kept from ${path.join(o.run, "config.json")}: ${taken.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(" ")}\n`);
    return await roundsLocked(command, { o, config, args, extract, runDir, sample, sourcesGiven: cl.given.has("sources"), benchmarks }, io);
  } finally {
    lock.release();
  }
}

/** The rounds of `runRounds`, with the run's lock held. */
async function roundsLocked(
  command: "round" | "run",
  {
    o,
    config,
    args,
    extract,
    runDir,
    sample,
    sourcesGiven,
    benchmarks,
  }: {
    o: Opts;
    config: Opts & { command: string; tokenizer?: string };
    args: ReturnType<typeof fastTextArgs>;
    extract: ReturnType<typeof toExtractOptions>;
    runDir: string;
    sample: boolean;
    sourcesGiven: boolean;
    /** `run`: what its clean step decontaminates against. */
    benchmarks: { index: BenchmarkIndex; names: string[] } | undefined;
  },
  io: Io,
): Promise<number> {
  fs.mkdirSync(path.join(runDir, "logs"), { recursive: true });
  const store = new WorkStore(path.join(runDir, "work.sqlite"));
  let tokenizer: TokenizerName;
  try {
    // fixed for the run at its first round (the counts cached in the store are of it)
    tokenizer = store.useTokenizer(o.tokenizer === undefined ? undefined : checkTokenizer(o.tokenizer));
    // a run's crawl extracts every page or a candidate pool, whichever it began with
    checkCrawlMode(store, o.candidatePool);
  } catch (err) {
    store.close();
    throw err;
  }
  config.tokenizer = tokenizer;
  writeAtomic(path.join(runDir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  const progress = new Progress(io.stderr);
  const session = openSession(io, path.join(runDir, "logs", `${command}.jsonl`), () => progress.done());
  const { logger, warn } = session;
  // feature hashes for the store, computed in the workers
  const extractor = new Extractor({ ...extract, features: true }, o.threads);
  const lang = new LangId();

  const summaries: RoundSummary[] = [];
  let failedSources: string[] = [];
  /** The run's stores (set once the plan is known; until then `store` alone is open). */
  let stores: RunStores | undefined;
  /** The Slurm jobs this invocation submitted (--executor slurm). */
  let slurmJobs: { arrays: string[]; rounds: string } | undefined;
  /** Crawl tasks that failed for another reason than unreadable sources: the stage stops. */
  let taskFailure: FailedTask[] | undefined;
  /** What round 1's crawl did in this invocation (JSON `crawl`), if it ran. */
  let crawlSummary: Record<string, unknown> | null = null;
  try {
    logger.log("info", `${command}_start`, { config });
    // sources are resolved before the seeds are extracted, so a mistyped path or an unreachable
    // listing fails at once, not after minutes of seed extraction
    const reading = warcReading(o, sample ? { ...io, cwd: packageRoot() } : io, logger);
    // the plan: made from the sources when the run starts, then frozen (plan/plan.ts); a run
    // begun before plans is one task with SQLite's document ids
    let plan = readPlan(runDir);
    const legacy = !plan && (store.doneFiles().length > 0 || store.docCount() > 0 || store.lastRound() !== undefined);
    if (legacy && o.tasks !== undefined && o.tasks > 1) throw new UsageError(`${o.run} was begun before runs had plans and is one task; --tasks ${o.tasks} needs a new run`);
    if (o.executor !== "local" && (plan?.tasks ?? o.tasks ?? 1) === 1) throw new UsageError(`--executor ${o.executor} runs the tasks of a run split into several: start the run with --tasks N (N > 1)`);
    const crawling = store.lastDoneRound() === undefined;
    const asked = crawling && (!plan || sourcesGiven) ? await resolveSources(o.sources, reading.resolve) : undefined;
    if (!legacy) {
      const cwd = sample ? packageRoot() : io.cwd;
      plan = frozenPlan(runDir, { tasks: o.tasks, sources: asked?.map((x) => ({ name: x.name, bytes: localSize(x.name, cwd) })), sourcesGiven });
    }
    const crawlSources = !crawling ? [] : (asked ?? (await resolveSources(plan!.files.map((f) => f.name), reading.resolve)));
    stores = RunStores.from(store, runDir, plan);
    // runs begun before local sources were kept absolute named their files as typed, from this
    // folder as a rerun usually is: those names are made absolute, so the files stay done
    const local = new Set(crawlSources.map((x) => x.name));
    for (const name of store.doneFiles().filter(isLocalSpec)) {
      const abs = path.resolve(io.cwd, name);
      if (abs !== name && local.has(abs)) store.renameFile(name, abs);
    }
    const seedsStart = Date.now();
    const seeds = (
      await loadSeeds(store, path.resolve(io.cwd, o.seeds), extractor, lang, extract, warn, logger, (done, kept) =>
        progress.update(() => `seeds: ${done} extracted, ${kept} kept  ${formatRate(done, (Date.now() - seedsStart) / 1000)} seeds/s`),
      )
    ).docs;
    progress.done();
    // a fixed pool of negatives (--negatives): read once per invocation, sampled by each round
    let negativePool: TextDoc[] | undefined;
    if (o.negatives.length > 0) {
      const data: DataOptions = { extract, warc: reading, heldOut: o.heldOut, negCount: -1, seed: o.seed };
      negativePool = (await loadNegatives(o.negatives, data, 0, logger, extractor, lang, warn)).negatives;
      if (negativePool.length === 0) throw new InputError(`--negatives ${o.negatives.join(",")}: no document could be read or kept from it: nothing to train against`);
      logger.log("info", "negative_pool", { sources: o.negatives, documents: negativePool.length });
    }
    const countTokens = await tokenCounter(tokenizer);
    const cfg: RoundConfig = {
      countTokens,
      runDir,
      heldOut: o.heldOut,
      negCount: o.negCount,
      seed: o.seed,
      args,
      trainThreads: o.trainThreads,
      deterministic: o.deterministic,
      tokenBudget: o.tokenBudget ?? 0,
      threshold: o.threshold,
      fpr: o.fpr,
      domainShare: o.domainShare,
      minDomainPages: o.minDomainPages,
      autoAccept: o.autoAccept,
      scoreProcesses: o.scoreProcesses,
      engine: checkEngine(o.engine),
      unlabeled: o.unlabeledNegatives,
      ...(negativePool ? { negativePool } : {}),
    };
    const rounds = command === "run" ? o.maxRounds : 1;
    /** Why `run` stopped adding rounds (JSON `stop_reason`). */
    let stopReason: "max_rounds" | "converged" | "nothing_promoted" | "sources_failed" | "tasks_failed" | "submitted" | "interrupted" | null = command === "run" ? "max_rounds" : null;
    // --sources given for a run whose crawl is done: said once, as they are not read
    let noteSources = sourcesGiven;
    for (let k = 0; k < rounds; k++) {
      const last = store.lastRound();
      const round = !last ? 1 : last.step === "done" ? last.round + 1 : last.round;
      if (command === "run" && last?.step === "done" && last.round >= o.maxRounds) break;
      if (command === "run" && last?.step === "done") {
        // a rerun of a run that has converged does not add rounds (`round` still does)
        const share = convergedAt(store, last.round, o.stopShare);
        if (share !== undefined) {
          io.stderr.write(`run: already converged: ${(100 * share).toFixed(1)}% of round ${last.round}'s selection was selected in round ${last.round - 1} (stop share ${o.stopShare})\n`);
          stopReason = "converged";
          break;
        }
      }
      if (round === 1) {
        const sources = crawlSources;
        const crawlStart = Date.now();
        const crawlCpu = process.cpuUsage();
        const crawlLoop = performance.eventLoopUtilization();
        let ing: IngestStats;
        // a candidate pool's gate is trained here, before the crawl tasks that read it start
        if (plan && plan.tasks > 1 && !allCrawled(runDir, plan)) await crawlGate(store, { runDir, sources, seeds: path.resolve(io.cwd, o.seeds), logger, warn, extractor, o }, io);
        if (plan && plan.tasks > 1 && o.executor === "slurm" && !allCrawled(runDir, plan)) {
          // the crawl's arrays and the rest of the run after them are submitted; this process ends here
          const jobs = submitCrawl(command, runDir, plan, o, io);
          slurmJobs = jobs;
          logger.log("info", "slurm_submitted", jobs);
          if (stopReason) stopReason = "submitted";
          break;
        }
        if (plan && plan.tasks > 1) {
          const c = o.executor === "k8s" && !allCrawled(runDir, plan) ? await crawlByK8s(runDir, plan, o, io, progress, logger) : await crawlByTasks(runDir, plan, o, io, progress, logger);
          if (c.failed.length > 0) {
            taskFailure = c.failed;
            if (stopReason) stopReason = "tasks_failed";
            break;
          }
          ing = c.ing;
          if (io.signal?.aborted) {
            if (stopReason) stopReason = "interrupted";
            break;
          }
        } else {
          ing = await crawlInProcess({ runDir, plan, sources, store, extractor, lang, o, seeds: path.resolve(io.cwd, o.seeds), extract, cwd: sample ? packageRoot() : io.cwd, progress, logger, warn, started: crawlStart }, io);
        }
        progress.done();
        noteSources = false;
        failedSources = ing.failed;
        for (const f of ing.failed) warn(`${f}: could not be read to its end; not stored (a rerun retries it)`);
        const outsidePool = ing.extract.outside;
        io.stderr.write(
          `round 1: ${ing.files} files crawled, ${ing.skipped} already done; ${ing.pages} pages, ${ing.kept} documents stored${outsidePool ? ` (${outsidePool} outside the candidate pool: small rows, not extracted)` : ""}, ${ing.urlDups} URL duplicates\n`,
        );
        const warcDrops = ing.warc.dropped.describe() || "none";
        const extractDrops = ing.extract.dropped.describe() || "none";
        if (ing.files + ing.failed.length > 0) io.stderr.write(`round 1: dropped reading WARCs: ${warcDrops}; dropped in extraction: ${extractDrops}\n`);
        crawlSummary = {
          files: ing.files,
          skipped: ing.skipped,
          failed: ing.failed.length,
          pages: ing.pages,
          documents: ing.kept,
          ...(outsidePool ? { outside_pool: outsidePool } : {}),
          ...(ing.gateSeconds !== undefined ? { first_pass_seconds: +ing.gateSeconds.toFixed(3) } : {}),
          ...(ing.gateMainSeconds !== undefined ? { first_pass_main_thread_seconds: +ing.gateMainSeconds.toFixed(3) } : {}),
          url_dups: ing.urlDups,
          dropped: { warc: ing.warc.dropped.toJSON(), extract: ing.extract.dropped.toJSON() },
          ...(plan ? { tasks: plan.tasks } : {}),
        };
        if (failedSources.length > 0 && !o.allowFailedSources) {
          // training on a partial crawl would make round 1 final without those files: a rerun
          // goes on to round 2, which never reads WARCs
          const n = failedSources.length;
          io.stderr.write(
            `round 1: stopped after the crawl: ${n} source${n === 1 ? "" : "s"} could not be read to the end and ${n === 1 ? "was" : "were"} not stored. Rerun to retry ${n === 1 ? "it" : "them"} (finished files are skipped), or leave ${n === 1 ? "it" : "them"} out of --sources, or pass --allow-failed-sources to train on what was read\n`,
          );
          logger.log("warn", "round_stopped", { round: 1, failed_sources: failedSources });
          if (stopReason) stopReason = "sources_failed";
          break;
        }
        if (plan && plan.tasks > 1 && store.meta("url_dedup") === undefined) {
          // the reduce after the crawl map: URLs stored by several tasks keep their first copy
          const { removed, outside: removedOutside } = dedupUrlsAcrossTasks(stores, logger);
          store.setMeta("url_dedup", String(removed));
          if (removed > 0) io.stderr.write(`round 1: ${removed} URL duplicate${removed === 1 ? "" : "s"} across tasks removed: ${stores.docCount()} documents\n`);
          // the crawl's counts after its reduce: the documents kept, every URL duplicate
          crawlSummary.documents = (crawlSummary.documents as number) - removed;
          crawlSummary.url_dups = (crawlSummary.url_dups as number) + removed;
          if (crawlSummary.outside_pool !== undefined) crawlSummary.outside_pool = (crawlSummary.outside_pool as number) - removedOutside;
        }
        // this process's CPU for the crawl (with the reduce after it): with tasks, the coordinator's share
        const cpu = process.cpuUsage(crawlCpu);
        crawlSummary.coordinator_cpu_seconds = +((cpu.user + cpu.system) / 1e6).toFixed(3);
        // the main thread's own busy time (its event loop's active time): what the workers cannot take from it
        crawlSummary.main_thread_seconds = +(performance.eventLoopUtilization(crawlLoop).active / 1000).toFixed(3);
        crawlSummary.seconds = +((Date.now() - crawlStart) / 1000).toFixed(3);
        if (stores.docCount() === 0) throw new InputError(`round 1: no documents were stored from the sources: ${whyNoDocuments(ing)}`);
      } else if (noteSources) {
        noteSources = false;
        warn(`round ${round}: --sources is read by round 1 only; this round re-scores the ${stores.docCount()} stored documents (start a new run to crawl other sources)`);
      }
      if (io.signal?.aborted) {
        if (stopReason) stopReason = "interrupted";
        break;
      }
      // pages outside the candidate pool that this round needs whole are read again and extracted
      const outside =
        store.meta("crawl_mode") === "pool"
          ? new OutsideReader(extractor, lang, { ...extract, langs: o.langs, window: extractor.window }, { http: reading.resolve.http, cwd: reading.resolve.cwd, maxRecordBytes: o.maxRecordBytes, logger }, logger, warn, io.signal)
          : undefined;
      if (outside) {
        // promoted pages outside the candidate pool train this round: read again and extracted
        const x = await outside.promoted(stores);
        const dropped = Object.values(x.dropped).reduce((a, b) => a + b, 0);
        if (x.extracted + dropped + x.failed > 0) {
          io.stderr.write(`round ${round}: ${x.extracted} promoted page${x.extracted === 1 ? "" : "s"} outside the candidate pool read again and extracted${dropped ? `, ${dropped} dropped by the extraction` : ""}${x.failed ? `, ${x.failed} could not be read again` : ""}\n`);
        }
      }
      const s = await runRound(stores, round, cfg, {
        ...(outside
          ? {
              fillOutside: async (ids: number[]) => {
                const x = await outside.pages(stores!, ids);
                const dropped = Object.values(x.dropped).reduce((a, b) => a + b, 0);
                if (x.extracted + dropped > 0) logger.log("info", "outside_sampled", { round, ...x });
                return x.extracted + dropped;
              },
            }
          : {}),
        logger,
        seeds,
        onStep: (step) => {
          progress.done();
          io.stderr.write(`round ${round}: ${step}\n`);
        },
        // within training (fastText's own report) and scoring
        onProgress: (text) => progress.update(() => `round ${round}: ${text}`),
        warn,
        ...(io.signal ? { signal: io.signal } : {}),
        ...(plan && plan.tasks > 1
          ? {
              // the scoring map runs as tasks, each over its own store
              scoreByTasks: (r: number) => scoreByTasks(runDir, plan!, r, o, io, progress, logger),
              onTrained: (r: number) => clearScoreMarkers(runDir, plan!, r),
            }
          : {}),
      });
      progress.done();
      if (s.cutoff_rule.startsWith("calibrated") && s.selection_recall < 0.5) {
        // negatives sampled from a crawl that is largely math teach the model that math is not
        // (before sampled pages were treated as unlabeled, the bundled crawl, 13 % math: recall 0.05)
        warn(
          `round ${round}: held-out recall is only ${s.selection_recall.toFixed(3)} at the calibrated cut-off (${s.cutoff_rule}): the crawl's pages, from which the negatives are sampled, are probably far from mostly non-math (a crawl of math sites?). Give --negatives SOURCE,... (a random web sample), or select with --token-budget TOKENS or --threshold P instead`,
        );
      }
      summaries.push(s);
      if (!o.json) io.stdout.write(summaryLine(s));
      if (command === "run" && convergedAt(store, round, o.stopShare) !== undefined) {
        io.stderr.write(`run: converged: ${(100 * s.convergence_share!).toFixed(1)}% of round ${round}'s selection was selected in round ${round - 1} (stop share ${o.stopShare})\n`);
        stopReason = "converged";
        break;
      }
      if (command === "run" && s.promoted === 0 && k + 1 < rounds && round < o.maxRounds) {
        // nothing changes before the next round within this invocation (the run lock keeps
        // `domains` out): it would train on the same seeds and negatives and select the same pages
        const accepted = store.db.prepare("SELECT count(*) FROM annotations WHERE decision = 'accept'").pluck().get() as number;
        const dirArg = o.run;
        const same = "another round would train on the same data";
        io.stderr.write(
          accepted > 0
            ? `run: round ${round} promoted no pages (no unselected pages under accepted prefixes), so ${same}: stopping\n`
            : s.math_related_hosts > 0
              ? `run: round ${round} promoted no pages, so ${same}. ${s.math_related_hosts} math-related host${s.math_related_hosts === 1 ? "" : "s"} await annotation: review them in a browser with \`mathcorpus review --run ${dirArg}\` (or list them with \`mathcorpus domains --run ${dirArg}\` and --accept there), or rerun with --auto-accept SHARE; then \`mathcorpus run --run ${dirArg}\` goes on from round ${round + 1}\n`
              : `run: round ${round} found no math-related host (none has more than --domain-share ${o.domainShare} of its pages selected), so nothing can be promoted and ${same}: stopping\n`,
        );
        stopReason = "nothing_promoted";
        break;
      }
    }
    let cleaned: CleanSummary | undefined;
    const lastDone = store.lastDoneRound();
    if (command === "run" && benchmarks && lastDone && !io.signal?.aborted) {
      // clean the final selection: exact and near duplicates, benchmark contamination
      cleaned = await cleanRound(stores, lastDone, benchmarks.index, DEFAULT_MINHASH, logger, {
        onProgress: (text) => progress.update(() => `clean: ${text}`),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(plan && plan.tasks > 1
          ? {
              // clean's map runs as tasks, each over its own store, with the benchmarks as absolute paths
              mapByTasks: (key: string, todo: number[]) =>
                cleanByTasks(runDir, plan!, lastDone, { minhash: DEFAULT_MINHASH, benchmarks: { benchmark: o.benchmark.map((b) => path.resolve(io.cwd, b)), bundledBenchmarks: o.bundledBenchmarks, questionField: o.questionField, answerField: o.answerField } }, key, todo, o, io, progress, logger),
            }
          : {}),
      });
      progress.done();
      if (!o.json) io.stdout.write(`clean: round ${cleaned.round}: ${cleaned.kept} of ${cleaned.selected} selected pages kept; removed: ${Object.entries(cleaned.removed).map(([k, v]) => `${k}=${v}`).join(" ") || "none"}\n`);
    }
    let manifest: Manifest | undefined;
    if (cleaned && !io.signal?.aborted) {
      const out = o.out ?? path.join(runDir, "export");
      manifest = exportRound(stores, cleaned.round, runDir, out, { shardTokens: o.shardTokens, shardDocs: 0, seed: o.seed, pageSize: exportSpecs.pageSize.default, force: false, countTokens }, shardProgress(progress));
      progress.done();
      if (!o.json) io.stdout.write(runSummary(stores, summaries, cleaned, manifest, shownPath(io.cwd, out)));
    }
    const report = command === "run" && stores && lastDone && !io.signal?.aborted ? writeRunReport(stores, runDir, o.out ?? path.join(runDir, "export"), (w) => session.warn(`${w}; \`mathcorpus report --run ${o.run}\` writes it`)) : undefined;
    if (report && !o.json) io.stdout.write(`  ${"report".padEnd(28)} ${shownPath(io.cwd, report)}\n`);
    if (o.json) io.stdout.write(JSON.stringify({ run: shownPath(io.cwd, runDir), crawl: crawlSummary, rounds: summaries, ...(command === "run" ? { stop_reason: io.signal?.aborted ? "interrupted" : stopReason } : {}), clean: cleaned ?? null, report: report ? shownPath(io.cwd, report) : null, export: manifest ? { documents: manifest.documents, tokens: manifest.tokens, shards: manifest.shards } : null, failed_sources: failedSources, ...(taskFailure ? { failed_tasks: taskFailure } : {}), ...(slurmJobs ? { slurm: slurmJobs } : {}), coordinator_cpu_seconds: cpuSeconds() }, null, 2) + "\n");
    logger.log("info", `${command}_done`, { rounds: summaries.length });
    if (io.signal?.aborted) return EXIT.interrupted;
    // a task ended by a signal (killed, preempted, out of memory) is not a bug: some tasks failed (4), rerun
    if (taskFailure) return taskFailure.some((f) => f.failed_sources.length > 0 && !f.error) ? EXIT.partial : Math.max(...taskFailure.map((f) => f.exit ?? EXIT.partial));
    return failedSources.length > 0 ? EXIT.partial : EXIT.ok;
  } catch (err) {
    session.abandon();
    throw err;
  } finally {
    progress.done();
    await Promise.all([extractor.close(), lang.close()]);
    if (stores) stores.close();
    else store.close();
    await session.close();
  }
}
