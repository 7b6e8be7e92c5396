import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { InputError, UsageError } from "../core/errors.js";
import { writeAtomic } from "../core/atomic.js";
import { taskCli } from "./local.js";

/** What the run asks of the cluster, passed through to sbatch (empty: the cluster's defaults). */
export interface SlurmResources {
  partition?: string | undefined;
  account?: string | undefined;
  qos?: string | undefined;
  time?: string | undefined;
  mem?: string | undefined;
  cpus?: number | undefined;
}

export interface SlurmPlan {
  /** The crawl's array jobs: the task indexes of each, less `offset` (arrays split under MaxArraySize). */
  arrays: Array<{ offset: number; indexes: number[] }>;
  crawlScript: string;
  roundsScript: string;
  /** sbatch's arguments for each array job (its script last). */
  arrayArgs: string[][];
}

/** Is sbatch on PATH? */
export function hasSbatch(env: Record<string, string | undefined>): boolean {
  const r = spawnSync("sbatch", ["--version"], { env: env as NodeJS.ProcessEnv, stdio: "ignore" });
  return !r.error && r.status === 0;
}

/** The cluster's MaxArraySize (`scontrol show config`), or Slurm's default 1001 when it cannot be read. */
export function maxArraySize(env: Record<string, string | undefined>): number {
  try {
    const out = execFileSync("scontrol", ["show", "config"], { env: env as NodeJS.ProcessEnv, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(out);
    if (m) return Number(m[1]);
  } catch {
    /* no scontrol, or no cluster: the default */
  }
  return 1001;
}

/**
 * The tasks to run as array jobs: array indexes must stay below MaxArraySize, so the task list is
 * cut into ranges of that size, each submitted with its offset (the task reads
 * SLURM_ARRAY_TASK_ID + MC_TASK_OFFSET), as datatrove users learn to do by hand.
 */
export function splitArrays(todo: number[], max: number): Array<{ offset: number; indexes: number[] }> {
  const out = new Map<number, number[]>();
  for (const t of todo) {
    const offset = Math.floor(t / max) * max;
    out.set(offset, [...(out.get(offset) ?? []), t - offset]);
  }
  return [...out.entries()].sort((a, b) => a[0] - b[0]).map(([offset, indexes]) => ({ offset, indexes }));
}

/** "0-3,5,7-9" for sorted indexes. */
export function rangeList(xs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    parts.push(i === j ? String(xs[i]) : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function directives(r: SlurmResources, cpus: number): string[] {
  return [
    ...(r.partition ? [`#SBATCH --partition=${r.partition}`] : []),
    ...(r.account ? [`#SBATCH --account=${r.account}`] : []),
    ...(r.qos ? [`#SBATCH --qos=${r.qos}`] : []),
    ...(r.time ? [`#SBATCH --time=${r.time}`] : []),
    ...(r.mem ? [`#SBATCH --mem=${r.mem}`] : []),
    `#SBATCH --cpus-per-task=${cpus}`,
  ];
}

/**
 * The sbatch scripts of a run (written into DIR/slurm/): the crawl as array jobs of `mathcorpus
 * task`, one log per task (`%A_%a`, appended across requeues), requeued on node failure or
 * preemption; then the rest of the run (`command`, the rounds, clean, export) as one job that
 * starts only after every array job ends well (afterok), and is cancelled if one does not.
 */
export function slurmPlan(o: { runDir: string; command: "run" | "round"; todo: number[]; tasks: number; workers: number; threads: number; max: number; resources: SlurmResources }): SlurmPlan {
  const node = process.execPath;
  const cli = taskCli();
  const logs = path.join(o.runDir, "slurm", "logs");
  const cpus = o.resources.cpus ?? Math.max(1, o.threads);
  const crawlScript = [
    "#!/bin/bash",
    "#SBATCH --job-name=mathcorpus-crawl",
    `#SBATCH --output=${logs}/crawl_%A_%a.out`,
    "#SBATCH --open-mode=append",
    "#SBATCH --requeue",
    "#SBATCH --export=ALL",
    ...directives(o.resources, cpus),
    "# one task of the run's frozen plan: its index is SLURM_ARRAY_TASK_ID + MC_TASK_OFFSET",
    `exec ${q(node)} ${q(cli)} task --run ${q(o.runDir)} --stage crawl --threads ${o.threads}`,
    "",
  ].join("\n");
  const roundsScript = [
    "#!/bin/bash",
    `#SBATCH --job-name=mathcorpus-${o.command}`,
    `#SBATCH --output=${logs}/${o.command}_%j.out`,
    "#SBATCH --open-mode=append",
    "#SBATCH --export=ALL",
    ...directives(o.resources, Math.max(1, o.resources.cpus ?? o.threads)),
    "# the run goes on from the crawl its tasks finished (nothing is crawled again)",
    `exec ${q(node)} ${q(cli)} ${o.command} --run ${q(o.runDir)} --executor local --json`,
    "",
  ].join("\n");
  const arrays = splitArrays(o.todo, o.max);
  const crawlFile = path.join(o.runDir, "slurm", "crawl.sbatch");
  const arrayArgs = arrays.map((a) => ["--parsable", `--array=${rangeList(a.indexes)}%${Math.max(1, o.workers)}`, `--export=ALL,MC_TASK_OFFSET=${a.offset}`, crawlFile]);
  return { arrays, crawlScript, roundsScript, arrayArgs };
}

/** The sbatch arguments of the job that runs the rest of the run after the arrays `jobs`. */
export function roundsArgs(runDir: string, jobs: string[]): string[] {
  return ["--parsable", ...(jobs.length ? [`--dependency=afterok:${jobs.join(":")}`, "--kill-on-invalid-dep=yes"] : []), path.join(runDir, "slurm", "rounds.sbatch")];
}

function sbatch(args: string[], env: Record<string, string | undefined>): string {
  const r = spawnSync("sbatch", args, { env: env as NodeJS.ProcessEnv, encoding: "utf8" });
  if (r.error) throw new UsageError(`sbatch could not be run: ${r.error.message}`);
  if (r.status !== 0) throw new InputError(`sbatch ${args.join(" ")} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  // --parsable prints "jobid" or "jobid;cluster"
  const id = r.stdout.trim().split(";")[0]!;
  if (!/^\d+$/.test(id)) throw new InputError(`sbatch printed no job id: ${r.stdout.trim()}`);
  return id;
}

/**
 * Writes the scripts into DIR/slurm/ and submits them: the crawl's arrays, then the rest of the
 * run after them. Returns the job ids (also kept in DIR/slurm/jobs.json for `status`).
 */
export function submitSlurm(runDir: string, p: SlurmPlan, env: Record<string, string | undefined>): { arrays: string[]; rounds: string } {
  fs.mkdirSync(path.join(runDir, "slurm", "logs"), { recursive: true });
  writeAtomic(path.join(runDir, "slurm", "crawl.sbatch"), p.crawlScript);
  writeAtomic(path.join(runDir, "slurm", "rounds.sbatch"), p.roundsScript);
  const arrays = p.arrayArgs.map((a) => sbatch(a, env));
  const rounds = sbatch(roundsArgs(runDir, arrays), env);
  writeAtomic(path.join(runDir, "slurm", "jobs.json"), JSON.stringify({ submitted: new Date().toISOString(), arrays: arrays.map((id, i) => ({ id, ...p.arrays[i]! })), rounds }) + "\n");
  return { arrays, rounds };
}
