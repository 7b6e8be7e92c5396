import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Io } from "../core/io.js";
import type { Logger } from "../core/log.js";
import type { Progress } from "../core/progress.js";
import { lastError, runLocal } from "../executors/local.js";
import { type TaskMarker, clearMarker, crawlMarker, ingestOfMarkers, readMarker, stepKey, taskDone, taskLogPath, writeMarker } from "../plan/crawl.js";
import type { ExtractOptions, FirstPassGate } from "../extract/extract.js";
import type { LangId } from "../extract/lang.js";
import type { Extractor } from "../extract/pool.js";
import { crawlProgress, ingest, localSize } from "../rounds/ingest.js";
import { RunLock } from "../store/lock.js";
import type { WorkStore } from "../store/store.js";
import type { WarcSource } from "../warc/source.js";
import { EXIT, type ExitCode, TaskError, UsageError } from "../core/errors.js";
import { runGate } from "../rounds/firstpass.js";
import { type Plan, assign, readPlan, taskDir } from "../plan/plan.js";
import { maxArraySize, roundsArgs, slurmPlan, submitSlurm } from "../executors/slurm.js";
import { type JobEnd, batchApi, jobName, jobYaml, runJob, taskJob } from "../executors/k8s.js";
import type { BatchV1Api, V1Job } from "@kubernetes/client-node";
import { writeAtomic } from "../core/atomic.js";
import { nullLogger } from "../core/log.js";
import type { WarcOptions } from "../config/warc.js";
import { resolveSources } from "../warc/source.js";
import { warcReading } from "./warcrun.js";
import type { IngestStats } from "../rounds/ingest.js";
import { shownPath } from "../core/paths.js";
import { type CleanSpec, writeCleanSpec } from "../clean/map.js";

/** A crawl task that did not finish. */
export interface FailedTask {
  task: number;
  exit: number | null;
  log: string;
  failed_sources: string[];
  error?: string;
  /** How it ended where no exit code is known (a Kubernetes index that failed). */
  how?: string;
}

/** The crawl tasks done before, and those to run. */
function crawlTodo(runDir: string, plan: Pick<Plan, "tasks">): { before: number[]; todo: number[] } {
  const all = Array.from({ length: plan.tasks }, (_, t) => t);
  const before = all.filter((t) => taskDone(runDir, "crawl", t));
  return { before, todo: all.filter((t) => !before.includes(t)) };
}

/** How a task ended, as its executor saw it. */
type TaskExit = { task: number; code: number | null; signal: string | null; log: string; how?: string };

/**
 * Round 1's crawl as a Kubernetes Indexed Job (`--executor k8s`): created through the cluster's
 * API, waited for, then read like the local executor's tasks: from the markers and logs they left
 * in the run folder, which the pods see on the shared volume.
 */
export async function crawlByK8s(
  runDir: string,
  plan: Plan,
  o: { workers: number; threads: number; allowFailedSources: boolean } & K8sOptions,
  io: Io,
  progress: Progress,
  logger: Logger,
): Promise<{ ing: IngestStats; failed: FailedTask[] }> {
  const { before, todo } = crawlTodo(runDir, plan);
  const job = k8sJobFor(runDir, plan, o, "crawl");
  const api = batchApi(io.env);
  io.stderr.write(`round 1: crawling ${plan.files.length} files in ${plan.tasks} tasks as Kubernetes Indexed Job ${job.metadata!.namespace}/${job.metadata!.name} (${job.spec!.parallelism} at once), ${todo.length} to run, ${before.length} done before\n`);
  const end = await runK8sJob(runDir, api, job, "round 1: tasks", io, progress, logger);
  const failedIndexes = new Set(end.failed);
  const exits: TaskExit[] = todo.map((t) => {
    const log = taskLogPath(runDir, "crawl", t);
    if (taskDone(runDir, "crawl", t)) return { task: t, code: 0, signal: null, log };
    const m = readMarker(runDir, "crawl", t);
    // a task that recorded only unreadable sources exited 4; other ends are told by the Job
    if (m?.status === "failed" && !m.error && m.failed_sources.length > 0) return { task: t, code: 4, signal: null, log };
    return { task: t, code: null, signal: null, log, how: k8sHow(end, failedIndexes.has(t)) };
  });
  return collectCrawl(runDir, plan, todo, exits, o, io);
}

/** How a task that did not finish ended in Job `end`. */
function k8sHow(end: JobEnd, indexFailed: boolean): string {
  return indexFailed ? `its index failed in Job ${end.name}` : `Job ${end.name} ended (${end.reason ?? "not complete"}) before it`;
}

/** Creates `job`, keeps its manifest in DIR/k8s/, and waits for its end with a progress line. */
async function runK8sJob(runDir: string, api: BatchV1Api, job: V1Job, label: string, io: Io, progress: Progress, logger: Logger): Promise<JobEnd> {
  const stage = job.metadata!.labels!["app.kubernetes.io/component"]!;
  fs.mkdirSync(path.join(runDir, "k8s"), { recursive: true });
  writeAtomic(path.join(runDir, "k8s", `${stage}-job.yaml`), jobYaml(job));
  logger.log("info", "k8s_job", { name: job.metadata!.name, namespace: job.metadata!.namespace, stage, tasks: job.spec!.completions });
  const started = Date.now();
  const end = await runJob(api, job, {
    // how often the Job's status is read (MC_K8S_POLL_MS: tests poll faster)
    pollMs: Number(io.env.MC_K8S_POLL_MS ?? 2000),
    signal: io.signal,
    onStatus: (ok, bad, active) => progress.update(() => `${label} ${ok} succeeded, ${bad} failed pods, ${active} running  ${((Date.now() - started) / 1000).toFixed(0)}s`),
  });
  progress.done();
  logger.log(end.complete ? "info" : "warn", "k8s_job_end", { ...end });
  const ns = job.metadata!.namespace!;
  if (end.deleted === true) io.stderr.write(`k8s: interrupted: Job ${ns}/${end.name} deleted with its pods; a rerun runs the tasks not done\n`);
  else if (end.deleted) io.stderr.write(`k8s: interrupted, but Job ${ns}/${end.name} could not be deleted (${end.deleted}): its pods may run on; delete it (kubectl delete job -n ${ns} ${end.name}) before a rerun\n`);
  return end;
}

/** A stage's Job as `--executor k8s` creates it (and `--dry-run` prints it): the crawl, or round `stage`'s scoring or cleaning map. */
export function k8sJobFor(runDir: string, plan: Pick<Plan, "tasks" | "run_id">, o: { workers: number; threads: number } & K8sOptions, stage: "crawl" | number, kind: "score" | "clean" = "score"): V1Job {
  const threads = o.k8sCpus ?? Math.max(1, o.threads);
  const key = stage === "crawl" ? "crawl" : stepKey(kind, stage);
  return taskJob({
    runDir,
    runId: plan.run_id,
    tasks: plan.tasks,
    workers: o.workers,
    threads,
    name: jobName(plan.run_id, key),
    stage: key,
    stageArgs: stage === "crawl" ? "--stage crawl" : `--stage ${kind} --round ${stage}`,
    ask: { image: o.k8sImage ?? "", namespace: o.k8sNamespace, pvc: o.k8sPvc, mount: o.k8sMount ?? path.dirname(runDir), cpus: o.k8sCpus, mem: o.k8sMem, serviceAccount: o.k8sServiceAccount },
  });
}

/** `--dry-run` with Kubernetes: the crawl Job the run would create (its plan as it is, or would be). */
export function k8sDryRun(o: { workers: number; threads: number; tasks?: number | undefined } & K8sOptions, runDir: string): string {
  const plan = readPlan(runDir) ?? { tasks: o.tasks ?? 1, run_id: "dry-run" };
  return `# ${path.join(runDir, "k8s", "crawl-job.yaml")} (would be created; nothing was; each round's scoring is a Job like it, with --stage score --round N, and the last round's cleaning map one with --stage clean --round N)\n${jobYaml(k8sJobFor(runDir, plan, o, "crawl"))}`;
}

type K8sOptions = { k8sImage?: string | undefined; k8sNamespace: string; k8sPvc?: string | undefined; k8sMount?: string | undefined; k8sCpus?: number | undefined; k8sMem?: string | undefined; k8sServiceAccount?: string | undefined };

/**
 * Round 1's crawl of a run split into tasks: the tasks not done are launched by the executor, and
 * what the tasks run now recorded is summed. Tasks that failed are returned (with `--allow-failed-sources`,
 * tasks whose only failure is unreadable sources are not: the round goes on without those files).
 */
export async function crawlByTasks(
  runDir: string,
  plan: Plan,
  o: { workers: number; threads: number; allowFailedSources: boolean },
  io: Io,
  progress: Progress,
  logger: Logger,
): Promise<{ ing: IngestStats; failed: FailedTask[] }> {
  const { before, todo } = crawlTodo(runDir, plan);
  const workers = Math.min(o.workers, Math.max(1, todo.length));
  // the machine's extraction threads shared among the processes at once
  const threads = o.threads === 0 ? 0 : Math.max(1, Math.floor(Math.max(o.threads, os.availableParallelism()) / workers));
  io.stderr.write(`round 1: crawling ${plan.files.length} files in ${plan.tasks} tasks: ${todo.length} to run (${workers} at once, ${threads} extraction thread${threads === 1 ? "" : "s"} each), ${before.length} done before\n`);
  logger.log("info", "crawl_tasks", { tasks: plan.tasks, todo, workers, threads });
  let done = 0;
  let running = 0;
  const started = Date.now();
  const line = () => `round 1: tasks ${done}/${todo.length} finished, ${running} running  ${((Date.now() - started) / 1000).toFixed(0)}s`;
  const exits = await runLocal({
    runDir,
    stage: "crawl",
    tasks: todo,
    workers,
    args: ["--stage", "crawl", "--threads", String(threads)],
    ...(io.signal ? { signal: io.signal } : {}),
    onStart: () => {
      running++;
      progress.update(line);
    },
    onExit: (e) => {
      running--;
      done++;
      logger.log(e.code === 0 ? "info" : "warn", "task_exit", { stage: "crawl", task: e.task, code: e.code, signal: e.signal });
      progress.update(line);
    },
  });
  progress.done();
  return collectCrawl(runDir, plan, todo, exits, o, io);
}

/** What the crawl tasks `todo` recorded, and which failed, as the executor saw them end. */
function collectCrawl(runDir: string, plan: Plan, todo: number[], exits: TaskExit[], o: { allowFailedSources: boolean }, io: Io): { ing: IngestStats; failed: FailedTask[] } {
  const markers = todo.map((t) => readMarker(runDir, "crawl", t)).filter((m): m is TaskMarker => m !== undefined && m.status === "done");
  const failed: FailedTask[] = [];
  const sourcesOnly: TaskMarker[] = [];
  for (const e of exits) {
    if (taskDone(runDir, "crawl", e.task)) continue;
    if (io.signal?.aborted) continue; // interrupted, not failed: a rerun runs it
    const m = readMarker(runDir, "crawl", e.task);
    if (m && m.status === "failed" && !m.error && m.failed_sources.length > 0 && e.code === 4) {
      sourcesOnly.push(m);
      if (o.allowFailedSources) continue;
    }
    const error = m?.error ?? (e.signal ? `killed by ${e.signal}` : (lastError(e.log) ?? e.how));
    failed.push({ task: e.task, exit: e.code, log: e.log, failed_sources: m?.failed_sources ?? [], ...(error ? { error } : {}), ...(e.how ? { how: e.how } : {}) });
  }
  for (const f of failed) {
    const why = f.error ?? (f.failed_sources.length ? `could not read ${f.failed_sources.join(", ")} to the end` : `exit ${f.exit}`);
    io.stderr.write(`error: round 1: crawl task ${f.task} failed (${f.exit === null ? (f.how ?? "killed") : `exit ${f.exit}`}): ${why}\n  log: ${shownPath(io.cwd, f.log)}\n`);
  }
  if (failed.length > 0) {
    io.stderr.write(`round 1: stopped: ${failed.length} of ${plan.tasks} crawl tasks failed, so the rounds do not start. \`mathcorpus status --run ${shownPath(io.cwd, runDir)}\` shows them; after the fix, run this again: only the tasks not done run\n`);
  }
  return { ing: ingestOfMarkers([...markers, ...sourcesOnly]), failed };
}

/** Every crawl task of the plan is done. */
export function allCrawled(runDir: string, plan: Plan): boolean {
  for (let t = 0; t < plan.tasks; t++) if (!taskDone(runDir, "crawl", t)) return false;
  return true;
}

type SlurmAsk = { workers: number; threads: number } & { [K in "slurmPartition" | "slurmAccount" | "slurmQos" | "slurmTime" | "slurmMem"]?: string | undefined } & { slurmCpus?: number | undefined };

function slurmFor(command: "run" | "round", runDir: string, plan: Pick<Plan, "tasks">, todo: number[], o: SlurmAsk, env: Record<string, string | undefined>) {
  const workers = Math.max(1, o.workers);
  // a task's extraction threads: what it asks the cluster for (--slurm-cpus), else --threads
  const threads = o.slurmCpus ?? Math.max(1, o.threads);
  return slurmPlan({
    runDir,
    command,
    todo,
    tasks: plan.tasks,
    workers,
    threads,
    max: maxArraySize(env),
    resources: { partition: o.slurmPartition, account: o.slurmAccount, qos: o.slurmQos, time: o.slurmTime, mem: o.slurmMem, cpus: o.slurmCpus },
  });
}

/** Submits the crawl tasks not done as Slurm arrays and the rest of the run after them; says so. */
export function submitCrawl(command: "run" | "round", runDir: string, plan: Plan, o: SlurmAsk, io: Io): { arrays: string[]; rounds: string } {
  const todo = Array.from({ length: plan.tasks }, (_, t) => t).filter((t) => !taskDone(runDir, "crawl", t));
  const p = slurmFor(command, runDir, plan, todo, o, io.env);
  const jobs = submitSlurm(runDir, p, io.env);
  const shown = shownPath(io.cwd, runDir);
  io.stderr.write(
    `round 1: submitted the crawl's ${todo.length} task${todo.length === 1 ? "" : "s"} of ${plan.tasks} as Slurm array job${jobs.arrays.length === 1 ? "" : "s"} ${jobs.arrays.join(", ")} (${o.workers} at once), and the rest of the run as job ${jobs.rounds} after ${jobs.arrays.length === 1 ? "it" : "them"} (afterok).\n` +
      `  scripts and logs: ${path.join(shown, "slurm")}; follow it with \`mathcorpus status --run ${shown}\` or squeue\n`,
  );
  return jobs;
}

/** `--dry-run` with Slurm: the scripts and the sbatch calls the run would make (its plan as it is, or would be). */
export async function slurmDryRun(command: "run" | "round", o: SlurmAsk & WarcOptions & { sources: string[]; tasks?: number | undefined }, runDir: string, io: Io): Promise<string> {
  let plan = readPlan(runDir);
  if (!plan) {
    const sources = await resolveSources(o.sources, warcReading(o, io, nullLogger).resolve);
    plan = { format: 1, run_id: "(dry run)", tasks: o.tasks ?? 1, created: "", ...assign(sources.map((x) => ({ name: x.name, bytes: localSize(x.name, io.cwd) })), o.tasks ?? 1) };
  }
  const todo = Array.from({ length: plan.tasks }, (_, t) => t).filter((t) => !taskDone(runDir, "crawl", t));
  const p = slurmFor(command, runDir, plan, todo, o, io.env);
  let t = `# ${path.join(runDir, "slurm", "crawl.sbatch")}\n${p.crawlScript}\n# ${path.join(runDir, "slurm", "rounds.sbatch")}\n${p.roundsScript}\n# would submit (nothing was submitted):\n`;
  p.arrayArgs.forEach((a, i) => (t += `sbatch ${a.join(" ")}    # → ARRAY${i}\n`));
  t += `sbatch ${roundsArgs(runDir, p.arrayArgs.map((_, i) => `ARRAY${i}`)).join(" ")}\n`;
  return t;
}

/**
 * Round `round`'s scoring map (or cleaning map) as tasks: each task of `todo` (default: those not
 * done) works on its own store, on the local executor or as a Kubernetes Indexed Job. A task that
 * fails is an error naming it and its log (a rerun runs only the tasks not done).
 */
export async function mapByTasks(
  kind: "score" | "clean",
  runDir: string,
  plan: Plan,
  round: number,
  o: { workers: number; scoreProcesses: number; executor?: string } & K8sOptions,
  io: Io,
  progress: Progress,
  logger: Logger,
  todo: number[] = Array.from({ length: plan.tasks }, (_, t) => t).filter((t) => !taskDone(runDir, stepKey(kind, round), t)),
): Promise<void> {
  const key = stepKey(kind, round);
  const what = kind === "score" ? "scoring" : "cleaning map";
  if (todo.length === 0) return;
  let exits: TaskExit[];
  if (o.executor === "k8s") {
    // as an Indexed Job: tasks done before exit at once
    const job = k8sJobFor(runDir, plan, { ...o, threads: o.scoreProcesses }, round, kind);
    io.stderr.write(`round ${round}: ${what} in ${plan.tasks} tasks as Kubernetes Indexed Job ${job.metadata!.namespace}/${job.metadata!.name}, ${todo.length} to run\n`);
    const end = await runK8sJob(runDir, batchApi(io.env), job, `round ${round}: ${kind} tasks`, io, progress, logger);
    exits = todo.map((t) => ({ task: t, code: null, signal: null, log: taskLogPath(runDir, key, t), how: k8sHow(end, end.failed.includes(t)) }));
  } else {
    const workers = Math.min(o.workers, todo.length);
    const threads = Math.max(1, Math.floor(Math.max(o.scoreProcesses, os.availableParallelism()) / workers));
    let done = 0;
    if (kind === "clean") io.stderr.write(`round ${round}: cleaning map in ${plan.tasks} tasks: ${todo.length} to run (${workers} at once)\n`);
    exits = await runLocal({
      runDir,
      stage: key,
      tasks: todo,
      workers,
      args: ["--stage", kind, "--round", String(round), "--threads", String(threads)],
      ...(io.signal ? { signal: io.signal } : {}),
      onExit: (e) => {
        done++;
        logger.log(e.code === 0 ? "info" : "warn", "task_exit", { stage: key, task: e.task, code: e.code, signal: e.signal });
        progress.update(() => `round ${round}: ${kind} tasks ${done}/${todo.length} finished`);
      },
    });
    progress.done();
  }
  if (io.signal?.aborted) throw new Error(`${what} of round ${round} interrupted`);
  const failed = exits.filter((e) => !taskDone(runDir, key, e.task));
  if (failed.length > 0) {
    const f = failed[0]!;
    const why = f.signal ? `killed by ${f.signal}` : (lastError(f.log) ?? f.how ?? `exit ${f.code}`);
    const codes = failed.map((e) => (e.code === null || e.code === EXIT.ok ? EXIT.partial : e.code));
    throw new TaskError(`round ${round}: ${failed.length} ${what} task${failed.length === 1 ? "" : "s"} failed, task ${f.task} first: ${why} (log: ${shownPath(io.cwd, f.log)}); run this again to rerun only the tasks not done`, Math.max(...codes) as ExitCode);
  }
}

/** Round `round`'s scoring map as tasks (mapByTasks). */
export const scoreByTasks = (runDir: string, plan: Plan, round: number, o: { workers: number; scoreProcesses: number; executor?: string } & K8sOptions, io: Io, progress: Progress, logger: Logger): Promise<void> =>
  mapByTasks("score", runDir, plan, round, o, io, progress, logger);

/**
 * Clean's map of round `round` as tasks: the settings go to DIR/clean/round-N.json for the tasks
 * to read, and the tasks `todo` (whose stores lack a map of these settings) run again.
 */
export async function cleanByTasks(runDir: string, plan: Plan, round: number, spec: Omit<CleanSpec, "round" | "key">, key: string, todo: number[], o: { workers: number; scoreProcesses: number; executor?: string } & K8sOptions, io: Io, progress: Progress, logger: Logger): Promise<void> {
  writeCleanSpec(runDir, { round, key, ...spec });
  for (const t of todo) clearMarker(runDir, stepKey("clean", round), t);
  await mapByTasks("clean", runDir, plan, round, o, io, progress, logger, todo);
}

/** Forgets round `round`'s finished scoring tasks (its model was trained again). */
export function clearScoreMarkers(runDir: string, plan: Plan, round: number): void {
  for (let t = 0; t < plan.tasks; t++) clearMarker(runDir, stepKey("score", round), t);
}

/**
 * Round 1's crawl in this process: a run of one task (and runs begun before plans). Its task's
 * lock is held, so a `mathcorpus task` started by hand on the run waits its turn, and its marker
 * is written once the store is durable.
 */
export async function crawlInProcess(
  c: {
    runDir: string;
    plan: Plan | undefined;
    sources: WarcSource[];
    store: WorkStore;
    extractor: Extractor;
    lang: LangId;
    o: { maxRecordBytes: number; langs: string[]; seed: number; candidatePool: boolean; poolRecall: number; poolSample: number; heldOut: number; trainThreads: number; deterministic: boolean };
    /** The seed folder (the first-pass model's positives, with --candidate-pool). */
    seeds: string;
    extract: ExtractOptions;
    /** Where the sources' relative names resolve (the package, for the bundled sample). */
    cwd: string;
    progress: Progress;
    logger: Logger;
    warn: (message: string) => void;
    started: number;
  },
  io: Io,
): Promise<IngestStats> {
  const { plan, store } = c;
  io.stderr.write(`round 1: crawling ${c.sources.length} source${c.sources.length === 1 ? "" : "s"}\n`);
  const crawl = crawlProgress(c.sources.filter((x) => !store.isFileDone(x.name)).map((x) => x.name), c.cwd);
  const fileNo = plan ? new Map(plan.files.map((f, i) => [f.name, i])) : undefined;
  const taskLock = plan ? RunLock.acquire(taskDir(c.runDir, 0), "round 1 crawl (task 0)") : undefined;
  try {
    const gateStart = Date.now();
    const gateLoop = performance.eventLoopUtilization();
    const gate = await crawlGate(store, c, io);
    c.extractor.setGate(gate);
    const gateSeconds = (Date.now() - gateStart) / 1000;
    const gateMainSeconds = performance.eventLoopUtilization(gateLoop).active / 1000;
    const ing = await ingest(c.sources, store, c.extractor, c.lang, {
      onTick: (t) => c.progress.update(() => crawl(t, (Date.now() - c.started) / 1000)),
      maxRecordBytes: c.o.maxRecordBytes,
      pipeline: { ...c.extract, langs: c.o.langs, window: c.extractor.window },
      logger: c.logger,
      onIssue: c.warn,
      ...(fileNo ? { fileNo: (name: string) => fileNo.get(name) } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    // the negative sample's order, while the pages are at hand (rounds/negatives.ts)
    if (!io.signal?.aborted) store.sampleKeys(c.o.seed);
    if (plan && !io.signal?.aborted) {
      store.checkpoint();
      writeMarker(c.runDir, crawlMarker(0, ing, (Date.now() - c.started) / 1000));
    }
    if (gate) {
      ing.gateSeconds = gateSeconds;
      ing.gateMainSeconds = gateMainSeconds;
    }
    return ing;
  } finally {
    // pages read later (promoted pages outside the pool) are extracted whole
    c.extractor.setGate(undefined);
    taskLock?.release();
  }
}

/**
 * The candidate pool's gate of a crawl about to start (undefined without --candidate-pool): the
 * crawl mode recorded, and the first-pass model trained on the seeds against the sources' first
 * pages, or read back when an earlier invocation trained it (rounds/firstpass.ts). Before an
 * in-process crawl, and before a run's crawl tasks are launched (they read it from GATE_FILE).
 */
export async function crawlGate(
  store: WorkStore,
  c: { runDir: string; sources: WarcSource[]; seeds: string; logger: Logger; warn: (m: string) => void; extractor?: Extractor; o: { candidatePool: boolean; poolRecall: number; poolSample: number; heldOut: number; seed: number; trainThreads: number; deterministic: boolean; maxRecordBytes: number } },
  io: Io,
): Promise<FirstPassGate | undefined> {
  checkCrawlMode(store, c.o.candidatePool);
  if (store.meta("crawl_mode") === undefined) store.setMeta("crawl_mode", c.o.candidatePool ? "pool" : "full");
  if (!c.o.candidatePool) return undefined;
  io.stderr.write(store.meta("first_pass") ? "round 1: candidate pool: the first-pass model of this run's crawl\n" : `round 1: candidate pool: training the first-pass model on the seeds against the first ${c.o.poolSample} pages\n`);
  const g = await runGate(store, {
    runDir: c.runDir,
    sources: c.sources,
    seeds: c.seeds,
    heldOut: c.o.heldOut,
    recall: c.o.poolRecall,
    sample: c.o.poolSample,
    seed: c.o.seed,
    threads: c.o.trainThreads,
    deterministic: c.o.deterministic,
    maxRecordBytes: c.o.maxRecordBytes,
    logger: c.logger,
    warn: c.warn,
    ...(c.extractor ? { extractor: c.extractor } : {}),
    ...(io.signal ? { signal: io.signal } : {}),
  });
  if (g.trained) {
    const i = g.info;
    io.stderr.write(`round 1: first-pass bar ${i.bar.toFixed(4)} keeps ${(100 * i.held_recall).toFixed(1)}% of ${i.held_out} held-out seeds (trained on ${i.seeds - i.held_out} seeds against ${i.sample} pages in ${i.train_seconds.toFixed(1)} s)\n`);
  }
  return g.gate;
}

/**
 * A run's crawl extracts every page or only a candidate pool, for all its files: fixed when its
 * crawl starts (meta `crawl_mode`; a store with documents and no mark was begun before the pool,
 * extracting every page).
 */
export function checkCrawlMode(store: WorkStore, pool: boolean): void {
  const mode = store.meta("crawl_mode") ?? (store.docCount() > 0 || store.doneFiles().length > 0 ? "full" : undefined);
  const want = pool ? "pool" : "full";
  if (mode !== undefined && mode !== want) {
    throw new UsageError(
      mode === "full"
        ? `this run's crawl began extracting every page; --candidate-pool applies to a new run (another --run DIR)`
        : `this run's crawl began with --candidate-pool; it goes on with it (drop --no-candidate-pool), or start a new run`,
    );
  }
}
