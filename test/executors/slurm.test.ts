import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rangeList, slurmPlan, splitArrays } from "../../src/executors/slurm.js";
import { readPlan } from "../../src/plan/plan.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";
import { RUN_FLAGS, expectSame, snapshot, splitCrawl } from "../plan/crawls.js";

const SCRIPT = path.join(ROOT, "scripts", "slurm-local.sh");

/** A real one-node Slurm cluster (scripts/slurm-local.sh), or why there is none here. */
let cluster: { dir: string; env: Record<string, string | undefined> } | undefined;
let why = "";

beforeAll(() => {
  const dir = tmpDir("mc-slurm-");
  const r = spawnSync("bash", [SCRIPT, "start", dir], { encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) {
    why = (r.stderr || r.stdout || String(r.error)).trim();
    console.warn(`Slurm tests skipped: a local Slurm cluster could not be started (${why}); .ci/run installs it with scripts/slurm-local.sh install`);
    return;
  }
  cluster = { dir, env: { ...process.env, SLURM_CONF: path.join(dir, "slurm.conf") } };
}, 150_000);

afterAll(() => {
  if (cluster) spawnSync("bash", [SCRIPT, "stop", cluster.dir], { stdio: "ignore" });
});

const squeue = (args: string[]) => execFileSync("squeue", ["-h", ...args], { env: cluster!.env as NodeJS.ProcessEnv, encoding: "utf8" }).trim();

/** Waits until none of `jobs` is pending or running. */
async function waitJobs(jobs: string[], seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (squeue(["-j", jobs.join(","), "-t", "PD,R,CG,S,CF"]) === "") return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Slurm jobs ${jobs.join(",")} still queued after ${seconds} s:\n${squeue(["-t", "all", "-r"])}`);
}

describe("Slurm job arrays", () => {
  it("splits arrays under MaxArraySize with offsets, and writes the scripts with requeue, per-task logs and the resources asked", () => {
    expect(splitArrays([0, 1, 2, 5, 1001, 1003, 2500], 1001)).toEqual([
      { offset: 0, indexes: [0, 1, 2, 5] },
      { offset: 1001, indexes: [0, 2] },
      { offset: 2002, indexes: [498] },
    ]);
    expect(rangeList([0, 1, 2, 5, 7, 8])).toBe("0-2,5,7-8");
    const p = slurmPlan({ runDir: "/runs/x", command: "run", todo: [0, 1, 2, 3, 4], tasks: 5, workers: 3, threads: 2, max: 4, resources: { partition: "cpu", account: "math", qos: "low", time: "1:00:00", mem: "8G" } });
    expect(p.arrayArgs).toEqual([
      ["--parsable", "--array=0-3%3", "--export=ALL,MC_TASK_OFFSET=0", "/runs/x/slurm/crawl.sbatch"],
      ["--parsable", "--array=0%3", "--export=ALL,MC_TASK_OFFSET=4", "/runs/x/slurm/crawl.sbatch"],
    ]);
    for (const line of ["#SBATCH --requeue", "#SBATCH --open-mode=append", "#SBATCH --output=/runs/x/slurm/logs/crawl_%A_%a.out", "#SBATCH --partition=cpu", "#SBATCH --account=math", "#SBATCH --qos=low", "#SBATCH --time=1:00:00", "#SBATCH --mem=8G", "#SBATCH --cpus-per-task=2"]) {
      expect(p.crawlScript).toContain(line + "\n");
    }
    expect(p.crawlScript).toMatch(/task --run '\/runs\/x' --stage crawl --threads 2\n$/);
    expect(p.roundsScript).toMatch(/ run --run '\/runs\/x' --executor local --json\n$/);
  });

  it("--dry-run prints the scripts and the sbatch calls and submits nothing; without sbatch, or with one task, a clear error", async () => {
    const dir = tmpDir("mc-slurmdry-");
    const files = await splitCrawl(path.join(dir, "crawl"), 3);
    const run = path.join(dir, "run");
    const dry = await runCli(["run", "--run", run, "--sources", files.join(","), "--tasks", "3", "--executor", "slurm", "--workers", "2", "--dry-run"], ROOT, { PATH: process.env.PATH });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("#SBATCH --job-name=mathcorpus-crawl");
    expect(dry.stdout).toContain("sbatch --parsable --array=0-2%2 --export=ALL,MC_TASK_OFFSET=0");
    expect(dry.stdout).toContain("--dependency=afterok:ARRAY0 --kill-on-invalid-dep=yes");
    expect(fs.existsSync(run)).toBe(false);
    const none = await runCli(["run", "--run", run, "--sources", files.join(","), "--tasks", "3", "--executor", "slurm"], ROOT, { PATH: "/nonexistent" });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--executor slurm submits with sbatch, which is not on PATH here");
    expect(fs.existsSync(run)).toBe(false);
  }, 120_000);

  it("a run of 4 tasks on a real cluster, with a task requeued mid-way, gives exactly the result of one process", async (ctx) => {
    if (!cluster) return ctx.skip();
    const dir = tmpDir("mc-slurmrun-");
    const files = await splitCrawl(path.join(dir, "crawl"), 6);
    const one = await runCli(["run", "--run", path.join(dir, "one"), "--sources", files.join(","), ...RUN_FLAGS]);
    expect(one.code, one.stderr).toBe(0);
    const run = path.join(dir, "slurm");
    const sub = await runCli(["run", "--run", run, "--sources", files.join(","), "--tasks", "4", "--executor", "slurm", "--workers", "2", "--threads", "1", ...RUN_FLAGS], ROOT, cluster.env);
    expect(sub.code, sub.stderr).toBe(0);
    const out = JSON.parse(sub.stdout) as { stop_reason: string; slurm: { arrays: string[]; rounds: string }; rounds: unknown[] };
    expect(out.stop_reason).toBe("submitted");
    expect(out.rounds).toEqual([]);
    expect(sub.stderr).toContain(`as Slurm array job ${out.slurm.arrays[0]}`);
    // requeue a running array task: Slurm stops it and runs it again; it goes on from the files it finished
    const end = Date.now() + 60_000;
    let running = "";
    while (!running && Date.now() < end) {
      running = squeue(["-r", "-t", "R", "-j", out.slurm.arrays[0]!, "-o", "%i"]).split("\n").filter(Boolean)[0] ?? "";
      if (!running) await new Promise((r) => setTimeout(r, 200));
    }
    expect(running).toMatch(/^\d+_\d+$/);
    // once it is at work (it has said so in its log), not while its process is still starting
    const logFile = path.join(run, "slurm", "logs", `crawl_${running}.out`);
    while (Date.now() < end && !(fs.existsSync(logFile) && /^task \d+: crawling/m.test(fs.readFileSync(logFile, "utf8")))) await new Promise((r) => setTimeout(r, 100));
    execFileSync("scontrol", ["requeue", running], { env: cluster.env as NodeJS.ProcessEnv });
    // a requeued job waits ~2 minutes before it may start again unless told otherwise, once it is pending again
    const pendEnd = Date.now() + 30_000;
    while (Date.now() < pendEnd && squeue(["-r", "-t", "PD", "-j", running, "-o", "%i"]) === "") await new Promise((r) => setTimeout(r, 100));
    spawnSync("scontrol", ["update", `JobId=${running}`, "StartTime=now"], { env: cluster.env as NodeJS.ProcessEnv });
    await waitJobs([...out.slurm.arrays, out.slurm.rounds], 240);
    const log = fs.readFileSync(logFile, "utf8");
    expect(log.match(/^task \d+: (crawling|crawl already done)/gm)!.length).toBeGreaterThanOrEqual(2); // it ran twice, appending to its log
    const status = JSON.parse((await runCli(["status", "--run", run, "--json"])).stdout) as { stages: { crawl: Array<{ state: string }> }; rounds: Array<{ step: string }> };
    expect(status.stages.crawl.map((s) => s.state)).toEqual(["done", "done", "done", "done"]);
    expect(status.rounds.length).toBeGreaterThan(0);
    expect(status.rounds.every((r) => r.step === "done")).toBe(true);
    expectSame(snapshot(run), snapshot(path.join(dir, "one")));
  }, 420_000);

  it("a task that fails stops the stage (the rest of the run is cancelled); status names it; after the fix only that task is submitted", async (ctx) => {
    if (!cluster) return ctx.skip();
    const dir = tmpDir("mc-slurmfail-");
    const files = await splitCrawl(path.join(dir, "crawl"), 4);
    const good = fs.readFileSync(files[1]!);
    fs.writeFileSync(files[1]!, "this is not a WARC file\n".repeat(100));
    const run = path.join(dir, "run");
    const flags = ["--deterministic", "--token-budget", "40000", "--json"];
    const sub = await runCli(["run", "--run", run, "--sources", files.join(","), "--tasks", "4", "--executor", "slurm", "--workers", "4", "--threads", "1", ...flags], ROOT, cluster.env);
    expect(sub.code, sub.stderr).toBe(0);
    const jobs = (JSON.parse(sub.stdout) as { slurm: { arrays: string[]; rounds: string } }).slurm;
    await waitJobs([...jobs.arrays, jobs.rounds], 180);
    // the job after the crawl never ran: the run has no round
    expect(fs.existsSync(path.join(run, "slurm", "logs", `run_${jobs.rounds}.out`))).toBe(false);
    const bad = readPlan(run)!.files[1]!.task;
    const st = await runCli(["status", "--run", run]);
    expect(st.stdout).toContain("crawl: 3 done, 0 running, 1 failed, 0 pending");
    expect(st.stdout).toContain(`task ${bad}: failed`);
    expect(st.stdout).toContain(`could not read 1 source to the end: ${files[1]}`);
    expect(st.stdout).toContain("no round has started its training yet");
    fs.writeFileSync(files[1]!, good);
    const again = await runCli(["run", "--run", run, "--executor", "slurm", "--workers", "4", "--threads", "1", ...flags], ROOT, cluster.env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("submitted the crawl's 1 task of 4");
    const jobs2 = (JSON.parse(again.stdout) as { slurm: { arrays: string[]; rounds: string } }).slurm;
    expect(fs.readFileSync(path.join(run, "slurm", "jobs.json"), "utf8")).toContain(`"indexes":[${bad}]`);
    await waitJobs([...jobs2.arrays, jobs2.rounds], 240);
    const final = JSON.parse((await runCli(["status", "--run", run, "--json"])).stdout) as { stages: { crawl: Array<{ state: string }> }; rounds: Array<{ step: string }> };
    expect(final.stages.crawl.every((s) => s.state === "done")).toBe(true);
    expect(final.rounds.length).toBeGreaterThan(0);
  }, 480_000);
});
