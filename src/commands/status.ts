import { safeField } from "../core/terminal.js";
import fs from "node:fs";
import path from "node:path";
import { EXIT, InputError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { shownPath } from "../core/paths.js";
import { lastError } from "../executors/local.js";
import { readMarker, stepKey, taskLogPath } from "../plan/crawl.js";
import { cleanSpecPath } from "../clean/map.js";
import { readPlan, taskDir, taskFiles } from "../plan/plan.js";
import { RunLock } from "../store/lock.js";
import { WorkStore } from "../store/store.js";
import type { Command } from "./command.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "the run folder" },
  json: { type: "boolean", default: false, help: "print the status as JSON" },
} as const satisfies OptionSpecs;

export type TaskState = "done" | "running" | "failed" | "pending";

export interface TaskStatus {
  task: number;
  state: TaskState;
  files: number;
  log: string;
  /** Why it failed: the marker's error, its unreadable sources, or the log's last error line. */
  reason?: string;
}

/** The state of every task of a stage: its marker, else whether a live process holds its lock. */
export function stageStatus(runDir: string, stage: string): TaskStatus[] {
  const plan = readPlan(runDir);
  if (!plan) return [];
  const out: TaskStatus[] = [];
  for (let t = 0; t < plan.tasks; t++) {
    const m = readMarker(runDir, stage, t);
    const log = taskLogPath(runDir, stage, t);
    // the task's lock is held by whichever of its steps runs: a step already done is not that one
    const running = m?.status !== "done" && RunLock.holder(taskDir(runDir, t)) !== undefined;
    const state: TaskState = running ? "running" : (m?.status ?? "pending");
    const s: TaskStatus = { task: t, state, files: taskFiles(plan, t).length, log };
    if (state === "failed") {
      const why = m?.error ?? (m?.failed_sources.length ? `could not read ${m.failed_sources.length} source${m.failed_sources.length === 1 ? "" : "s"} to the end: ${m.failed_sources.join(", ")}` : undefined) ?? lastError(log);
      if (why) s.reason = why;
    }
    out.push(s);
  }
  return out;
}

export const command: Command = {
  name: "status",
  summary: "per stage and task of a run: done / running / failed / pending, with the failed task's log and reason",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("status", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("status", "--run DIR [--json]", "Show how far a run is: its plan, each stage's tasks, and its rounds.", specs, "A task is done once its marker (tasks/NNNNN/<stage>.json) says so, running while a process holds its lock,\nfailed when it ended without finishing (its log and the reason are named), pending otherwise. Running the\nsame `run` again runs only the tasks that are not done."));
      return EXIT.ok;
    }
    const o = cl.options;
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "status", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    const runDir = path.resolve(io.cwd, o.run);
    if (!fs.existsSync(path.join(runDir, "work.sqlite")) && !fs.existsSync(path.join(runDir, "plan.json"))) throw new InputError(`--run ${o.run}: no run there (no work.sqlite or plan.json)`);
    const plan = readPlan(runDir);
    let rounds: Array<{ round: number; step: string; selected: number | null }> = [];
    if (fs.existsSync(path.join(runDir, "work.sqlite"))) {
      const store = new WorkStore(path.join(runDir, "work.sqlite"));
      try {
        rounds = store.db.prepare("SELECT round, step, selected FROM rounds ORDER BY round").all() as typeof rounds;
      } finally {
        store.close();
      }
    }
    // the crawl, then each round's scoring (as tasks in a run of several)
    // (and the cleaning map of a round whose cleaning began as tasks)
    const several = plan !== undefined && plan.tasks > 1;
    const keys = [
      "crawl",
      ...(several ? rounds.filter((r) => r.step !== "train" && r.step !== "ingest").map((r) => stepKey("score", r.round)) : []),
      ...(several ? rounds.filter((r) => fs.existsSync(cleanSpecPath(runDir, r.round))).map((r) => stepKey("clean", r.round)) : []),
    ];
    const stages = Object.fromEntries(keys.map((k) => [k, stageStatus(runDir, k)]));
    if (o.json) {
      io.stdout.write(JSON.stringify({ run: shownPath(io.cwd, runDir), tasks: plan?.tasks ?? 1, files: plan?.files.length ?? null, stages, rounds }, null, 2) + "\n");
      return EXIT.ok;
    }
    let t = `run ${shownPath(io.cwd, runDir)}: ${plan ? `${plan.tasks} task${plan.tasks === 1 ? "" : "s"}, ${plan.files.length} files (${plan.assignment === "size" ? "balanced by size" : "file i → task i mod N"})` : "one store, begun before plans"}\n`;
    for (const [stage, tasks] of Object.entries(stages)) {
      if (tasks.length === 0) continue;
      const count = (s: TaskState) => tasks.filter((x) => x.state === s).length;
      t += `${stage}: ${count("done")} done, ${count("running")} running, ${count("failed")} failed, ${count("pending")} pending\n`;
      for (const x of tasks) {
        if (x.state === "done") continue;
        t += `  task ${x.task}: ${x.state} (${x.files} file${x.files === 1 ? "" : "s"})  log ${shownPath(io.cwd, x.log)}${x.reason ? `\n    ${safeField(x.reason)}` : ""}\n`;
      }
    }
    for (const r of rounds) t += `round ${r.round}: ${r.step === "done" ? `done, ${r.selected} selected` : `stopped before step ${r.step}`}\n`;
    if (rounds.length === 0) t += "no round has started its training yet\n";
    io.stdout.write(t);
    return EXIT.ok;
  },
};
