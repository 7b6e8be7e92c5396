import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors.js";
import { type Plan, readPlan, taskDir, taskStoreFile } from "../plan/plan.js";
import { WorkStore } from "./store.js";

/**
 * A document's id in a run with a plan: its file's number in the plan (high bits) and its place
 * among the HTML pages read from that file, from 1 (low 32 bits; never 0, which keyset pagination
 * starts below), whatever became of the pages before it. It is the same whichever task stored
 * it, so ids, their order (the order a single process stores pages in: file by file, page by
 * page) and every table keyed by them agree between a run of one task and of many.
 */
export const FILE_SHIFT = 2 ** 32;
export const docId = (fileNo: number, k: number): number => fileNo * FILE_SHIFT + k;
export const fileNoOf = (id: number): number => Math.floor(id / FILE_SHIFT);

/**
 * The stores of a run: `coord`, the run's own work store (work.sqlite: rounds, annotations,
 * seeds, domain and prefix statistics, cleaning, meta), and `parts`, the stores that hold the
 * documents and what is kept per document (features, scores, selections, promotions) — one per
 * task. A run of one task (and every run begun before plans) has one part: work.sqlite itself.
 * Round steps are maps over `parts` and small reduces into `coord`.
 */
export class RunStores {
  private constructor(
    readonly coord: WorkStore,
    readonly parts: WorkStore[],
    readonly plan: Plan | undefined,
  ) {}

  /**
   * Opens the stores of `runDir` (work.sqlite is created if missing; task stores must carry the
   * plan's run id — one copied from another run is refused).
   */
  static open(runDir: string, plan: Plan | undefined = readPlan(runDir)): RunStores {
    return RunStores.from(new WorkStore(path.join(runDir, "work.sqlite")), runDir, plan);
  }

  /** The stores of `runDir` around its open work store `coord` (closed with them, and on an error). */
  static from(coord: WorkStore, runDir: string, plan: Plan | undefined): RunStores {
    const parts: WorkStore[] = [];
    try {
      if (plan) checkRunId(coord, plan, "work.sqlite");
      if (!plan || plan.tasks === 1) return new RunStores(coord, [coord], plan);
      for (let t = 0; t < plan.tasks; t++) parts.push(openTaskStore(runDir, plan, t));
      return new RunStores(coord, parts, plan);
    } catch (err) {
      for (const p of parts) p.close();
      coord.close();
      throw err;
    }
  }

  /** The stores of an existing run (a clear error if it has none). */
  static openRun(runDir: string): RunStores {
    if (!fs.existsSync(path.join(runDir, "work.sqlite"))) WorkStore.openRun(runDir); // throws the usual message
    return RunStores.open(runDir);
  }

  /** The store that holds document `id`. */
  partOf(id: number): WorkStore {
    if (this.parts.length === 1) return this.parts[0]!;
    const f = this.plan!.files[fileNoOf(id)];
    if (!f) throw new InputError(`document ${id} names file ${fileNoOf(id)}, which the run's plan does not have`);
    return this.parts[f.task]!;
  }

  docCount(): number {
    return this.parts.reduce((n, p) => n + p.docCount(), 0);
  }

  /** Sums a single-number query over the parts. */
  sum(sql: string, ...params: unknown[]): number {
    return this.parts.reduce((n, p) => n + ((p.db.prepare(sql).pluck().get(...params) as number | null) ?? 0), 0);
  }

  close(): void {
    for (const p of this.parts) if (p !== this.coord && p.db.open) p.close();
    if (this.coord.db.open) this.coord.close();
  }
}

/** Task `t`'s store, created on first use with the plan's run id; another run's is refused. */
export function openTaskStore(runDir: string, plan: Plan, t: number): WorkStore {
  const file = taskStoreFile(runDir, plan, t);
  if (plan.tasks > 1) fs.mkdirSync(taskDir(runDir, t), { recursive: true });
  const store = new WorkStore(file);
  try {
    checkRunId(store, plan, path.relative(runDir, file));
    const task = store.meta("task");
    if (task === undefined) store.setMeta("task", String(t));
    else if (Number(task) !== t) throw new InputError(`${file}: this store is task ${task}'s, not task ${t}'s: the run's task folders were moved or copied; start a new run`);
    return store;
  } catch (err) {
    store.close();
    throw err;
  }
}

/** Records the plan's run id in a new store; a store of another run is an InputError. */
function checkRunId(store: WorkStore, plan: Plan, shown: string): void {
  const id = store.meta("run_id");
  if (id === undefined) {
    // a store that holds documents but no run id was begun before plans: it is this run's only if the plan is new
    store.setMeta("run_id", plan.run_id);
  } else if (id !== plan.run_id) {
    throw new InputError(`${shown} belongs to another run (run id ${id}; this run's plan says ${plan.run_id}): a store copied from elsewhere is never mixed into a run; remove it or start a new run`);
  }
}
