import { safeMessage } from "../core/terminal.js";
import fs from "node:fs";
import path from "node:path";
import { toExtractOptions } from "../config/extract.js";
import { EXIT, InputError, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, type ParsedCommandLine, parseCommandLine, renderHelp } from "../core/options.js";
import { packageRoot } from "../core/paths.js";
import { LangId } from "../extract/lang.js";
import { Extractor } from "../extract/pool.js";
import { STAGES, type Stage, crawlMarker, readMarker, scoreMarker, stepKey, taskLogPath, writeMarker } from "../plan/crawl.js";
import { openScorer } from "../classify/scorer.js";
import { cleanKey, cleanMapPart, cleanMetaKey, cleanSpecPath, readCleanSpec } from "../clean/map.js";
import { benchmarkIndex } from "../config/clean.js";
import { checkEngine } from "../config/classify.js";
import { scoreParts } from "../rounds/round.js";
import { type Plan, readPlan, taskDir, taskFiles } from "../plan/plan.js";
import { emptyIngest, ingest } from "../rounds/ingest.js";
import { taskGate } from "../rounds/firstpass.js";
import { RunLock } from "../store/lock.js";
import { openTaskStore } from "../store/stores.js";
import type { WorkStore } from "../store/store.js";
import { resolveSources } from "../warc/source.js";
import type { Command } from "./command.js";
import { roundSpecs } from "./rounds.js";
import { openSession } from "./session.js";
import { warcReading } from "./warcrun.js";

const specs = {
  run: { type: "string", arg: "DIR", help: "the run folder (its plan.json and config.json say what the task does)" },
  stage: { type: "string", default: "crawl", arg: "STAGE", help: `the stage to run: ${STAGES.join(", ")}` },
  task: { type: "number", arg: "I", help: "the task's index, from 0 [default: $SLURM_ARRAY_TASK_ID plus $MC_TASK_OFFSET, else $JOB_COMPLETION_INDEX]" },
  round: { type: "number", arg: "N", help: "with --stage score: the round whose model scores the task's documents; with --stage clean: the round whose selection the task maps for cleaning" },
  threads: { type: "number", arg: "N", help: "extraction (crawl) or scoring (score) threads of this task [default: the run's --threads / --score-processes]; a cleaning map (clean) runs on one" },
} as const satisfies OptionSpecs;

/** The task's index: --task, else Slurm's array index (plus an offset, for arrays split under MaxArraySize), else Kubernetes'. */
export function taskIndex(given: number | undefined, env: Record<string, string | undefined>, tasks: number): number {
  let t = given;
  let from = "--task";
  if (t === undefined && env.SLURM_ARRAY_TASK_ID !== undefined) {
    t = Number(env.SLURM_ARRAY_TASK_ID) + Number(env.MC_TASK_OFFSET ?? 0);
    from = "SLURM_ARRAY_TASK_ID";
  } else if (t === undefined && env.JOB_COMPLETION_INDEX !== undefined) {
    t = Number(env.JOB_COMPLETION_INDEX);
    from = "JOB_COMPLETION_INDEX";
  }
  if (t === undefined) throw new UsageError("which task? give --task I (or run it as a Slurm array element or a Kubernetes Indexed Job, which set the index)");
  if (!Number.isInteger(t) || t < 0 || t >= tasks) throw new UsageError(`${from} gives task ${t}, but the run has tasks 0 to ${tasks - 1}`);
  return t;
}

/** The options a task runs with: the run's config.json over the defaults of `round`. */
type RunOptions = ParsedCommandLine<typeof roundSpecs>["options"] & { sample?: boolean };

function runOptions(runDir: string, cwd: string): RunOptions {
  const file = path.join(runDir, "config.json");
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new InputError(`${file}: cannot be read (${(err as Error).message}); a task runs on a run that \`mathcorpus run\` or \`round\` has started`);
  }
  const o: Record<string, unknown> = { ...parseCommandLine("round", roundSpecs, [], cwd).options };
  for (const [k, v] of Object.entries(config)) if (k in roundSpecs || k === "sample") o[k] = v;
  return o as RunOptions;
}

/** A signal that also fires when the executor that started this process goes away (its pipe on stdin closes). */
function withParent(signal: AbortSignal | undefined, env: Record<string, string | undefined>): AbortSignal | undefined {
  if (env.MC_PARENT_PIPE !== "1") return signal;
  const parent = new AbortController();
  process.stdin.on("error", () => parent.abort());
  process.stdin.on("end", () => parent.abort());
  process.stdin.on("close", () => parent.abort());
  process.stdin.resume();
  // listening only: the pipe must not keep this process alive once the task is over
  (process.stdin as NodeJS.ReadStream & { unref?: () => void }).unref?.();
  return signal ? AbortSignal.any([signal, parent.signal]) : parent.signal;
}

/**
 * Round 1's crawl of one task: its files (plan order) into its own store, then its marker. The
 * same code runs under every executor. Exit 0 when done (or done before), 4 when sources could not
 * be read to their end (a rerun retries them), 2 when the task is running elsewhere.
 */
export async function crawlTask(runDir: string, plan: Plan, t: number, threads: number | undefined, io: Io): Promise<number> {
  const lock = taskLock(runDir, t, `task crawl ${t}`);
  const signal = withParent(io.signal, io.env);
  try {
    if (readMarker(runDir, "crawl", t)?.status === "done") {
      io.stderr.write(`task ${t}: crawl already done\n`);
      return EXIT.ok;
    }
    const o = runOptions(runDir, io.cwd);
    const extract = toExtractOptions(o);
    const session = openSession(io, path.join(taskDir(runDir, t), "crawl.jsonl"));
    const started = Date.now();
    const store = openTaskStore(runDir, plan, t);
    const extractor = new Extractor({ ...extract, features: true }, threads ?? o.threads);
    const lang = new LangId();
    try {
      // a candidate-pool run: the coordinator trained the gate before launching the crawl
      if (o.candidatePool) extractor.setGate(taskGate(runDir));
      const files = taskFiles(plan, t);
      const reading = warcReading(o, o.sample === true ? { ...io, cwd: packageRoot() } : io, session.logger);
      const sources = files.length ? await resolveSources(files.map((f) => f.name), reading.resolve) : [];
      const no = new Map(files.map((f) => [f.name, f.no]));
      io.stderr.write(`task ${t}: crawling ${files.length} file${files.length === 1 ? "" : "s"} of ${plan.files.length}\n`);
      let ing;
      try {
        ing = await ingest(sources, store, extractor, lang, {
          maxRecordBytes: o.maxRecordBytes,
          pipeline: { ...extract, langs: o.langs, window: extractor.window },
          logger: session.logger,
          onIssue: session.warn,
          fileNo: (name) => no.get(name),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        if (signal?.aborted) {
          io.stderr.write(`task ${t}: interrupted; a rerun goes on from the files it finished\n`);
          return EXIT.interrupted;
        }
        // recorded for `status`; the files finished before stay done
        writeMarker(runDir, { ...crawlMarker(t, emptyIngest(), (Date.now() - started) / 1000, (err as Error).message) });
        throw err;
      }
      if (signal?.aborted) {
        io.stderr.write(`task ${t}: interrupted; a rerun goes on from the files it finished\n`);
        return EXIT.interrupted;
      }
      // the negative sample's order, computed here rather than by the coordinator (rounds/negatives.ts)
      store.sampleKeys(o.seed);
      // done only once its writes are durable: the store is checkpointed before the marker is written
      store.checkpoint();
      const m = crawlMarker(t, ing, (Date.now() - started) / 1000);
      writeMarker(runDir, m);
      for (const f of ing.failed) io.stderr.write(`error: ${safeMessage(f)}: could not be read to its end; not stored (a rerun of task ${t} retries it)\n`);
      io.stderr.write(`task ${t}: ${m.status}: ${ing.files} files crawled, ${ing.skipped} already done; ${ing.pages} pages, ${ing.kept} documents stored, ${ing.urlDups} URL duplicates\n`);
      return m.status === "done" ? EXIT.ok : EXIT.partial;
    } catch (err) {
      session.abandon();
      throw err;
    } finally {
      await Promise.all([extractor.close(), lang.close()]);
      store.close();
      await session.close();
    }
  } finally {
    lock.release();
  }
}

/** What one task's step of a round does over its store (roundTask). */
interface RoundStep {
  /** Done before, with what it was asked: not run again. */
  done(store: WorkStore): boolean;
  /** The work; returns the line that says what was done. */
  run(store: WorkStore, session: ReturnType<typeof openSession>, signal: AbortSignal | undefined): Promise<{ documents: number; line: string }>;
}

/**
 * One task's step of round `round` (its scoring, clean's map): under the task's lock, with its
 * log, over its own store; the marker is written once the store is durable.
 */
async function roundTask(runDir: string, plan: Plan, t: number, stage: "score" | "clean", round: number, io: Io, step: RoundStep): Promise<number> {
  const key = stepKey(stage, round);
  const lock = taskLock(runDir, t, `task ${key} ${t}`);
  try {
    const store = openTaskStore(runDir, plan, t);
    try {
      if (readMarker(runDir, key, t)?.status === "done" && step.done(store)) {
        io.stderr.write(`task ${t}: round ${round}'s ${stage === "score" ? "scoring" : "cleaning map"} already done\n`);
        return EXIT.ok;
      }
      const session = openSession(io, path.join(taskDir(runDir, t), `${key}.jsonl`));
      const started = Date.now();
      try {
        const r = await step.run(store, session, withParent(io.signal, io.env));
        store.checkpoint();
        writeMarker(runDir, scoreMarker(round, t, r.documents, (Date.now() - started) / 1000, stage));
        io.stderr.write(`task ${t}: round ${round}: ${r.line}\n`);
        return EXIT.ok;
      } catch (err) {
        session.abandon();
        if (io.signal?.aborted) return EXIT.interrupted;
        throw err;
      } finally {
        await session.close();
      }
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * Round `round`'s scoring of one task: its store's documents scored with the round's model (the
 * run's models/round-N/model.bin), then its marker. A done task is not run again.
 */
export function scoreTask(runDir: string, plan: Plan, t: number, round: number, threads: number | undefined, io: Io): Promise<number> {
  const o = runOptions(runDir, io.cwd);
  const model = path.join(runDir, "models", `round-${round}`, "model.bin");
  return roundTask(runDir, plan, t, "score", round, io, {
    done: () => true,
    async run(store, session, signal) {
      if (!fs.existsSync(model)) throw new InputError(`${model}: round ${round} has no model yet: its training comes before its scoring tasks`);
      const n = threads ?? o.scoreProcesses;
      const scorer = openScorer(model, n, (why) => session.logger.log("warn", "binary_scoring", { round, why }), checkEngine(o.engine));
      try {
        const scored = await scoreParts([store], round, scorer, n, session.logger, undefined, signal);
        return { documents: scored, line: `${scored} documents scored` };
      } finally {
        await scorer.close();
      }
    },
  });
}

/**
 * Clean's map of round `round` over one task's store (clean/map.ts), with the settings the
 * coordinator wrote to DIR/clean/round-N.json; then its marker. A task whose store holds the map
 * of these settings is not run again.
 */
export function cleanTask(runDir: string, plan: Plan, t: number, round: number, io: Io): Promise<number> {
  const spec = readCleanSpec(runDir, round);
  if (!spec) throw new InputError(`${cleanSpecPath(runDir, round)}: missing or unreadable: the coordinator writes it before it starts round ${round}'s cleaning tasks`);
  return roundTask(runDir, plan, t, "clean", round, io, {
    done: (store) => store.meta(cleanMetaKey(round)) === spec.key,
    async run(store, _session, signal) {
      const { index } = await benchmarkIndex(spec.benchmarks, runDir, "clean task");
      const got = cleanKey(spec.minhash, index);
      if (got !== spec.key) throw new InputError(`task ${t}: the benchmarks read here are not those the coordinator read (key ${got}, expected ${spec.key}): were benchmark files changed while the run was cleaning, or is ${spec.benchmarks.benchmark.join(", ") || "the bundled data"} another file on this node?`);
      const mapped = await cleanMapPart(store, round, index, spec.minhash, spec.key, async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (signal?.aborted) throw new Error(`task ${t}: round ${round}'s cleaning map interrupted`);
      });
      return { documents: mapped, line: `${mapped} selected documents mapped for cleaning` };
    },
  });
}

/** Task `t`'s lock (one process per task at a time); held elsewhere: a usage error naming the holder. */
function taskLock(runDir: string, t: number, what: string): RunLock {
  // `status` probes the lock for an instant: a task that starts just then tries again for 2 s
  for (let attempt = 0; ; attempt++) {
    try {
      return RunLock.acquire(taskDir(runDir, t), what);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      if (attempt >= 20) throw new UsageError(`task ${t}: ${err.message}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

export const command: Command = {
  name: "task",
  summary: "run one task of a run split into tasks (what executors launch: local processes, Slurm array elements, Kubernetes pods)",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("task", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(
        renderHelp(
          "task",
          "--run DIR [--stage crawl|score|clean] [--round N] [--task I]",
          "Run one task of a run that `mathcorpus run --tasks N` planned.",
          specs,
          "A task is a function of the run's frozen plan (plan.json) and its index: its crawl reads the files the plan gives it\ninto its own store (tasks/NNNNN/work.sqlite); a round's scoring (score) and the cleaning map (clean) work on that\nstore. It records its end in tasks/NNNNN/<stage>.json (score-N.json, clean-N.json) once its writes are\ndurable. Rerunning a finished task does nothing; a task that died is simply run again. Its output goes to\nstderr (the local executor appends it to tasks/NNNNN/<stage>.log).",
        ),
      );
      return EXIT.ok;
    }
    const o = cl.options;
    if (!o.run) throw new UsageError("--run DIR is required: the run whose task this is");
    if (!(STAGES as readonly string[]).includes(o.stage)) throw new UsageError(`--stage expects one of ${STAGES.join(", ")}, got ${o.stage}`);
    if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 0 || o.threads > 256)) throw new UsageError(`--threads expects a whole number from 0 to 256, got ${o.threads}`);
    const runDir = path.resolve(io.cwd, o.run);
    if (!fs.existsSync(runDir)) throw new InputError(`--run ${o.run}: no such run folder (is it on a file system this node sees?)`);
    const plan = readPlan(runDir);
    if (!plan) throw new InputError(`${runDir}: no plan.json: this is not a run split into tasks (start it with \`mathcorpus run --tasks N\`), or the folder is not the run's as this node sees it`);
    const t = taskIndex(o.task, io.env, plan.tasks);
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "task", ...o, task: t, files: taskFiles(plan, t), log: taskLogPath(runDir, stepKey(o.stage as Stage, o.round), t) }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (o.stage === "score" || o.stage === "clean") {
      if (o.round === undefined || !Number.isInteger(o.round) || o.round < 1) throw new UsageError(`--stage ${o.stage} needs --round N (a whole number ≥ 1), got ${o.round}`);
      return o.stage === "score" ? scoreTask(runDir, plan, t, o.round, o.threads, io) : cleanTask(runDir, plan, t, o.round, io);
    }
    return crawlTask(runDir, plan, t, o.threads, io);
  },
};
