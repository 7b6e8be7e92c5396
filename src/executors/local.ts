import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "../core/paths.js";
import pLimit from "p-limit";
import { taskLogPath } from "../plan/crawl.js";
import { taskDir } from "../plan/plan.js";

/** How one task process ended. */
export interface TaskExit {
  task: number;
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  log: string;
}

export interface LocalOptions {
  runDir: string;
  /** The step the tasks run (plan/crawl stepKey: "crawl", "score-2"): names their logs. */
  stage: string;
  /** The tasks to run (those not done). */
  tasks: number[];
  /** Processes at once. */
  workers: number;
  /** The arguments of each `mathcorpus task` after --run and --task (--stage, --round, --threads). */
  args: string[];
  signal?: AbortSignal;
  onStart?: (task: number) => void;
  onExit?: (e: TaskExit) => void;
}

/** The compiled CLI beside this module (under a TypeScript test runner: the package's build). */
export function taskCli(): string {
  const beside = fileURLToPath(new URL("../cli.js", import.meta.url));
  return fs.existsSync(beside) ? beside : path.join(packageRoot(), "dist", "src", "cli.js");
}

/**
 * The local executor: each task is a `mathcorpus task` child process, at most `workers` at once,
 * its output appended to `tasks/NNNNN/<stage>.log`. It only launches tasks; what a task does and
 * records is the task's own (as a Slurm array element or a Kubernetes pod would run it). A child
 * reads its standard input to the end and stops when it closes, so the children end with this
 * process however it ends (a SIGKILL included); an interrupt is passed on as SIGTERM.
 */
export async function runLocal(o: LocalOptions): Promise<TaskExit[]> {
  const limit = pLimit(Math.max(1, o.workers));
  const live = new Set<ReturnType<typeof spawn>>();
  const onAbort = () => {
    for (const c of live) c.kill("SIGTERM");
  };
  o.signal?.addEventListener("abort", onAbort);
  try {
    return await Promise.all(
      o.tasks.map((t) =>
        limit(async (): Promise<TaskExit> => {
          const log = taskLogPath(o.runDir, o.stage, t);
          if (o.signal?.aborted) return { task: t, code: null, signal: "SIGTERM", log };
          fs.mkdirSync(taskDir(o.runDir, t), { recursive: true });
          const fd = fs.openSync(log, "a");
          try {
            const argv = [taskCli(), "task", "--run", o.runDir, "--task", String(t), ...o.args];
            fs.writeSync(fd, `--- ${new Date().toISOString()} local executor: mathcorpus ${argv.slice(1).join(" ")}\n`);
            const child = spawn(process.execPath, argv, { stdio: ["pipe", fd, fd], env: { ...process.env, MC_PARENT_PIPE: "1" } });
            live.add(child);
            o.onStart?.(t);
            const exit = await new Promise<TaskExit>((resolve) => {
              child.once("error", (err) => {
                fs.writeSync(fd, `error: could not start the task process: ${err.message}\n`);
                resolve({ task: t, code: 1, signal: null, log });
              });
              child.once("exit", (code, signal) => resolve({ task: t, code, signal, log }));
            });
            live.delete(child);
            o.onExit?.(exit);
            return exit;
          } finally {
            fs.closeSync(fd);
          }
        }),
      ),
    );
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
}

/** The last line of a task's log that says what went wrong (for `status` and the coordinator's message). */
export function lastError(log: string): string | undefined {
  let text: string;
  try {
    const fd = fs.openSync(log, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const n = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(n);
      fs.readSync(fd, buf, 0, n, size - n);
      text = buf.toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) if (/^(error|warning|fatal)\b|Error\b/i.test(lines[i]!)) return lines[i];
  return undefined;
}
