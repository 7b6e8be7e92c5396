import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InputError, UsageError } from "../core/errors.js";
import { writeAtomic } from "../core/atomic.js";

/**
 * A run split into tasks. The plan is frozen in the run folder (`plan.json`) when the run starts,
 * as datatrove and NeMo Curator freeze theirs: which source files there are, in which order (a
 * file's number is its place in that order), and which task reads each. A rerun cannot change it.
 * A task is a function of (plan, index): it reads its files, in the order of their numbers, into
 * its own store; tasks never share a writer.
 */
export interface PlanFile {
  /** The source as the run names it (a local file's absolute path, or a URL). */
  name: string;
  /** Its size in bytes when known when the plan was made (local files). */
  bytes: number | null;
  task: number;
}

export interface Plan {
  format: 1;
  /** Identifies the run: every task store records it, so a store from another run is refused. */
  run_id: string;
  tasks: number;
  /** "size" (balanced by size: every size was known) or "modulo" (file i → task i mod N). */
  assignment: "size" | "modulo";
  created: string;
  files: PlanFile[];
}

export const PLAN_FILE = "plan.json";

/** The most tasks a run may have: a document's id holds its file's number below 2^21 (store/ids). */
export const MAX_TASKS = 100_000;

/** Checks a --tasks value. */
export function checkTasks(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_TASKS) throw new UsageError(`--tasks expects a whole number from 1 to ${MAX_TASKS}, got ${n}`);
  return n;
}

/**
 * Assigns files to tasks: by size when every size is known (the largest first, each to the task
 * with the fewest bytes so far; ties to the lower task), else file i → task i mod N.
 */
export function assign(files: Array<{ name: string; bytes: number | null }>, tasks: number): Pick<Plan, "assignment" | "files"> {
  const known = files.length > 0 && files.every((f) => f.bytes !== null);
  if (!known) return { assignment: "modulo", files: files.map((f, i) => ({ ...f, task: i % tasks })) };
  const load = new Array<number>(tasks).fill(0);
  const out: PlanFile[] = files.map((f) => ({ ...f, task: 0 }));
  const order = files.map((_, i) => i).sort((a, b) => files[b]!.bytes! - files[a]!.bytes! || a - b);
  for (const i of order) {
    let best = 0;
    for (let t = 1; t < tasks; t++) if (load[t]! < load[best]!) best = t;
    out[i]!.task = best;
    load[best]! += files[i]!.bytes!;
  }
  return { assignment: "size", files: out };
}

export function readPlan(runDir: string): Plan | undefined {
  const file = path.join(runDir, PLAN_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new InputError(`${file}: cannot be read (${(err as Error).message})`);
  }
  try {
    const p = JSON.parse(text) as Plan;
    if (p.format !== 1 || !Number.isInteger(p.tasks) || !Array.isArray(p.files) || typeof p.run_id !== "string") throw new Error("not a plan of this mathcorpus");
    return p;
  } catch (err) {
    throw new InputError(`${file}: damaged plan (${(err as Error).message}); it cannot be remade without changing the run: start a new run`);
  }
}

/**
 * The run's plan: the one frozen in `runDir`, checked against what this invocation asks (`tasks`
 * when given, the sources when given), or a new one. A change is a usage error: the tasks' stores
 * hold what the first plan assigned them.
 */
export function frozenPlan(runDir: string, ask: { tasks: number | undefined; sources: Array<{ name: string; bytes: number | null }> | undefined; sourcesGiven: boolean }): Plan {
  const old = readPlan(runDir);
  if (old) {
    if (ask.tasks !== undefined && ask.tasks !== old.tasks) {
      throw new UsageError(`${path.join(runDir, PLAN_FILE)} splits this run into ${old.tasks} task${old.tasks === 1 ? "" : "s"}; --tasks ${ask.tasks} cannot change a run's plan (start a new run)`);
    }
    if (ask.sourcesGiven && ask.sources) {
      const was = old.files.map((f) => f.name);
      const now = ask.sources.map((f) => f.name);
      if (JSON.stringify(was) !== JSON.stringify(now)) {
        const added = now.filter((n) => !was.includes(n));
        const gone = was.filter((n) => !now.includes(n));
        const what = [added.length ? `adds ${added.length} (${added[0]}${added.length > 1 ? ", …" : ""})` : "", gone.length ? `leaves out ${gone.length} (${gone[0]}${gone.length > 1 ? ", …" : ""})` : "", !added.length && !gone.length ? "orders them differently" : ""].filter(Boolean).join(" and ");
        throw new UsageError(`--sources does not match the run's plan (${path.join(runDir, PLAN_FILE)}, ${was.length} files): it ${what}. A run's files are fixed when it starts: start a new run for other sources`);
      }
    }
    return old;
  }
  if (!ask.sources) throw new InputError(`${runDir}: no plan and no sources to make one from`);
  const tasks = checkTasks(ask.tasks ?? 1);
  const plan: Plan = { format: 1, run_id: crypto.randomUUID(), tasks, created: new Date().toISOString(), ...assign(ask.sources, tasks) };
  fs.mkdirSync(runDir, { recursive: true });
  writeAtomic(path.join(runDir, PLAN_FILE), JSON.stringify(plan, null, 1) + "\n");
  return plan;
}

/** The files task `t` reads, with their numbers, in the order of their numbers. */
export function taskFiles(plan: Plan, t: number): Array<{ no: number; name: string }> {
  return plan.files.flatMap((f, no) => (f.task === t ? [{ no, name: f.name }] : []));
}

/** The folder of task `t`'s store, markers and logs. */
export function taskDir(runDir: string, t: number): string {
  return path.join(runDir, "tasks", String(t).padStart(5, "0"));
}

/**
 * The store file of task `t`. A run of one task keeps its documents in the run's own work store
 * (as runs did before plans); a run of several keeps them in one store per task.
 */
export function taskStoreFile(runDir: string, plan: Plan | undefined, t: number): string {
  return !plan || plan.tasks === 1 ? path.join(runDir, "work.sqlite") : path.join(taskDir(runDir, t), "work.sqlite");
}
