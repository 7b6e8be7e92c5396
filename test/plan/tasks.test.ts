import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { assign, readPlan } from "../../src/plan/plan.js";
import { utf8Less } from "../../src/plan/crawl.js";
import { mergeSorted } from "../../src/core/merge.js";
import { DEFAULT_LIMITS, reportData } from "../../src/report/data.js";
import { RunStores } from "../../src/store/stores.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";
import { RUN_FLAGS, expectSame, snapshot, splitCrawl, sumDrops } from "./crawls.js";
import { taskChildren } from "../../scripts/chaos/kill.js";

const CLI = path.join(ROOT, "dist", "src", "cli.js");

describe("the plan", () => {
  it("balances files by size when every size is known, else file i → task i mod N", () => {
    const sized = assign([{ name: "a", bytes: 10 }, { name: "b", bytes: 70 }, { name: "c", bytes: 30 }, { name: "d", bytes: 30 }, { name: "e", bytes: 5 }], 2);
    expect(sized.assignment).toBe("size");
    // b (70) → 0; c (30) → 1; d (30) → 1; a (10) → 0 is 80 vs 60 → a goes to 1; e → 1 (70 vs 70: ties to the lower task → 0)
    expect(sized.files.map((f) => f.task)).toEqual([1, 0, 1, 1, 0]);
    const load = [0, 0];
    for (const f of sized.files) load[f.task]! += f.bytes!;
    expect(load).toEqual([75, 70]);
    const mod = assign([{ name: "a", bytes: 10 }, { name: "https://x/b", bytes: null }, { name: "c", bytes: 3 }], 2);
    expect(mod.assignment).toBe("modulo");
    expect(mod.files.map((f) => f.task)).toEqual([0, 1, 0]);
  });

  it("merges sorted streams in order, ties to the earlier stream, and orders strings as SQLite's UTF-8 bytes", () => {
    const merged = [...mergeSorted([[1, 4, 9], [2, 4, 10], [], [0]].map((a) => a.map((v, i) => ({ v, s: a.length * 100 + i }))), (a, b) => a.v < b.v)].map((x) => x.v);
    expect(merged).toEqual([0, 1, 2, 4, 4, 9, 10]);
    const words = ["b", "\u{1F600}", "\uFF21", "a", "ab", ""];
    const byBytes = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect([...words].sort((a, b) => (utf8Less(a, b) ? -1 : utf8Less(b, a) ? 1 : 0))).toEqual(byBytes);
    expect(byBytes.indexOf("\uFF21")).toBeLessThan(byBytes.indexOf("\u{1F600}")); // JavaScript's < says the opposite
  });
});

describe("a run split into tasks", () => {
  it("gives exactly the result of one task: documents, scores, selections, promotions, clean decisions, byte-identical shards", async () => {
    const dir = tmpDir("mc-tasks-");
    const files = await splitCrawl(path.join(dir, "crawl"), 6);
    const one = await runCli(["run", "--run", path.join(dir, "one"), "--sources", files.join(","), ...RUN_FLAGS]);
    expect(one.code, one.stderr).toBe(0);
    const four = await runCli(["run", "--run", path.join(dir, "four"), "--sources", files.join(","), "--tasks", "4", "--workers", "2", ...RUN_FLAGS]);
    expect(four.code, four.stderr).toBe(0);
    const plan = readPlan(path.join(dir, "four"))!;
    expect(plan.tasks).toBe(4);
    expect(plan.assignment).toBe("size");
    expect(new Set(plan.files.map((f) => f.task)).size).toBe(4);
    for (let t = 0; t < 4; t++) expect(fs.existsSync(path.join(dir, "four", "tasks", String(t).padStart(5, "0"), "work.sqlite"))).toBe(true);
    // the planted copies are stored once either way; across tasks they are removed after the crawl
    expect(four.stderr).toMatch(/round 1: \d+ URL duplicates? across tasks removed/);
    expect(sumDrops(path.join(dir, "four"), "url_dup")).toBeGreaterThan(0);
    const a = snapshot(path.join(dir, "one"));
    const b = snapshot(path.join(dir, "four"));
    expect((a.documents as unknown[]).length).toBeGreaterThan(600);
    expect((a.rounds as unknown[]).length).toBeGreaterThanOrEqual(2);
    expect((a.promoted as unknown[]).length).toBeGreaterThan(0);
    expect((a.clean as unknown[]).length).toBeGreaterThan(0);
    expect((a.shards as unknown[]).length).toBeGreaterThan(0);
    expectSame(b, a);
    // the report reads the same from one store and from four: funnel, rounds, hosts, matches, samples
    const report = (run: string) => {
      const stores = RunStores.openRun(run);
      try {
        const r = reportData(stores, run, path.join(run, "export"), { ...DEFAULT_LIMITS, samples: 2 });
        const hosts = r.hosts.map((h) => ({ ...h, prefixes: h.prefixes.map((p) => ({ ...p, at: p.at ? "t" : null })) }));
        return { ...r, run: "", generated: "", hosts, manifest: r.manifest && { documents: r.manifest.documents, tokens: r.manifest.tokens, shards: r.manifest.shards } };
      } finally {
        stores.close();
      }
    };
    const ra = report(path.join(dir, "one"));
    expect(ra.funnel.length).toBeGreaterThanOrEqual(5);
    expect(ra.samples!.bins.some((x) => x.pages.length > 0)).toBe(true);
    expect(report(path.join(dir, "four"))).toEqual(ra);
    const ja = JSON.parse(one.stdout) as { rounds: Array<Record<string, unknown>>; crawl: { documents: number } };
    const jb = JSON.parse(four.stdout) as { rounds: Array<Record<string, unknown>>; crawl: { documents: number; tasks: number } };
    expect(jb.crawl.tasks).toBe(4);
    const strip = (r: Record<string, unknown>) => ({ ...r, seconds: 0, timings: {}, cpu: {} });
    expect(jb.rounds.map(strip)).toEqual(ja.rounds.map(strip));
    // status: every crawl task done
    const st = await runCli(["status", "--run", path.join(dir, "four"), "--json"]);
    expect(st.code).toBe(0);
    const status = JSON.parse(st.stdout) as { tasks: number; stages: Record<string, Array<{ state: string }>>; rounds: Array<{ step: string }> };
    expect(status.tasks).toBe(4);
    expect(status.stages.crawl!.map((s) => s.state)).toEqual(["done", "done", "done", "done"]);
    // every round's scoring ran as tasks too, each over its own store, and so did the last round's cleaning map
    const last = status.rounds.length;
    expect(Object.keys(status.stages)).toEqual(["crawl", ...status.rounds.map((_, i) => `score-${i + 1}`), `clean-${last}`]);
    for (const [k, v] of Object.entries(status.stages)) expect(v.map((s) => s.state), k).toEqual(["done", "done", "done", "done"]);
    expect(fs.readFileSync(path.join(dir, "four", "tasks", "00002", "score-1.log"), "utf8")).toMatch(/task 2: round 1: \d+ documents scored/);
    // the cleaning map's tasks together mapped every selected page of the cleaned round, each its own part's
    const mapped = [0, 1, 2, 3].map((t) => Number(/task \d: round \d+: (\d+) selected documents mapped for cleaning/.exec(fs.readFileSync(path.join(dir, "four", "tasks", String(t).padStart(5, "0"), `clean-${last}.log`), "utf8"))![1]));
    expect(mapped.filter((n) => n > 0).length).toBeGreaterThan(1);
    expect(mapped.reduce((x, y) => x + y, 0)).toBe((a.clean as unknown[]).length);
    expect(four.stderr).toMatch(new RegExp(`round ${last}: cleaning map in 4 tasks: 4 to run`));
    expect(status.rounds.every((r) => r.step === "done")).toBe(true);

    // a task SIGKILLed mid-way (with its coordinator): the rerun runs what is not done and ends identical
    const killedRun = path.join(dir, "killed");
    const child = spawn(process.execPath, [CLI, "run", "--run", killedRun, "--sources", files.join(","), "--tasks", "4", "--workers", "2", ...RUN_FLAGS], { stdio: "ignore" });
    const storeOf = (t: number) => path.join(killedRun, "tasks", String(t).padStart(5, "0"), "work.sqlite");
    const deadline = Date.now() + 60_000;
    // wait until a task has committed a file but not finished: then SIGKILL the coordinator
    for (;;) {
      if (Date.now() > deadline) throw new Error("no task stored a file within 60 s");
      const some = [0, 1, 2, 3].some((t) => {
        if (!fs.existsSync(storeOf(t))) return false;
        try {
          const db = new Database(storeOf(t), { readonly: true });
          try {
            return (db.prepare("SELECT count(*) FROM files").pluck().get() as number) > 0;
          } finally {
            db.close();
          }
        } catch {
          return false;
        }
      });
      if (some) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // its task processes end with it (their stdin pipe closes): no task stays running
    const settle = Date.now() + 20_000;
    for (;;) {
      const st2 = JSON.parse((await runCli(["status", "--run", killedRun, "--json"])).stdout) as { stages: { crawl: Array<{ state: string }> } };
      if (!st2.stages.crawl.some((s) => s.state === "running")) {
        expect(st2.stages.crawl.some((s) => s.state !== "done")).toBe(true);
        break;
      }
      if (Date.now() > settle) throw new Error("a task process outlived its killed coordinator");
      await new Promise((r) => setTimeout(r, 200));
    }
    const resumed = await runCli(["run", "--run", killedRun, ...RUN_FLAGS]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/\d+ done before/);
    const c = snapshot(killedRun);
    expectSame(c, a);
  }, 300_000);

  it("a task that fails for good stops its stage; status names it, its log and the reason; after the fix only that task runs", async () => {
    const dir = tmpDir("mc-taskfail-");
    const files = await splitCrawl(path.join(dir, "crawl"), 4);
    const good = fs.readFileSync(files[2]!);
    fs.writeFileSync(files[2]!, "<html><body>not a WARC file</body></html>\n".repeat(200));
    const run = path.join(dir, "run");
    const first = await runCli(["run", "--run", run, "--sources", files.join(","), "--tasks", "4", "--workers", "2", "--threads", "1", ...RUN_FLAGS]);
    expect(first.code, first.stderr).toBe(4);
    const out = JSON.parse(first.stdout) as { rounds: unknown[]; stop_reason: string; failed_tasks: Array<{ task: number; log: string; failed_sources: string[] }> };
    expect(out.rounds).toEqual([]);
    expect(out.stop_reason).toBe("tasks_failed");
    const plan = readPlan(run)!;
    const bad = plan.files[2]!.task;
    expect(out.failed_tasks.map((f) => f.task)).toEqual([bad]);
    expect(out.failed_tasks[0]!.failed_sources).toEqual([files[2]]);
    expect(first.stderr).toContain(`crawl task ${bad} failed`);
    // no round started: the rounds are the stage's dependents
    const st = await runCli(["status", "--run", run]);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain("crawl: 3 done, 0 running, 1 failed, 0 pending");
    expect(st.stdout).toContain(`task ${bad}: failed`);
    expect(st.stdout).toContain(path.join("tasks", String(bad).padStart(5, "0"), "crawl.log"));
    expect(st.stdout).toContain(`could not read 1 source to the end: ${files[2]}`);
    expect(st.stdout).toContain("no round has started its training yet");
    expect(fs.readFileSync(path.join(run, "tasks", String(bad).padStart(5, "0"), "crawl.log"), "utf8")).toMatch(/not a WARC|not_warc/i);
    // the fix: the file's real bytes. The rerun runs only the failed task
    fs.writeFileSync(files[2]!, good);
    const second = await runCli(["run", "--run", run, ...RUN_FLAGS]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain("1 to run");
    expect(second.stderr).toContain("3 done before");
    const j = JSON.parse(second.stdout) as { crawl: { files: number }; rounds: unknown[] };
    expect(j.crawl.files).toBe(plan.files.filter((f) => f.task === bad).length);
    expect(j.rounds.length).toBeGreaterThan(0);
  }, 300_000);

  it("a task process killed by a signal: exit 4 naming the task, not 1; the rerun runs only the tasks not done", async () => {
    const dir = tmpDir("mc-taskkill-");
    const files = await splitCrawl(path.join(dir, "crawl"), 4);
    const run = path.join(dir, "run");
    const child = spawn(process.execPath, [CLI, "run", "--run", run, "--sources", files.join(","), "--tasks", "2", "--workers", "2", "--threads", "1", ...RUN_FLAGS], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // the first task process that shows up is killed
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error("no task process within 60 s");
      const task = taskChildren(child.pid!)[0];
      if (task !== undefined) {
        process.kill(task, "SIGKILL");
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exited, err).toBe(4);
    expect(err).toMatch(/error: round 1: crawl task \d failed \(killed\): killed by SIGKILL/);
    expect(err).toMatch(/1 of 2 crawl tasks failed, so the rounds do not start/);
    const again = await runCli(["run", "--run", run, ...RUN_FLAGS]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/1 done before/);
  }, 180_000);

  it("refuses bad usage with a clear error and changes nothing", async () => {
    const dir = tmpDir("mc-taskbad-");
    const files = await splitCrawl(path.join(dir, "crawl"), 3);
    const zero = await runCli(["round", "--run", path.join(dir, "z"), "--sources", files.join(","), "--tasks", "0"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("--tasks expects a whole number from 1");
    expect(fs.existsSync(path.join(dir, "z", "plan.json"))).toBe(false);
    const exec = await runCli(["round", "--run", path.join(dir, "e"), "--sources", files.join(","), "--executor", "mesos"]);
    expect(exec.code).toBe(2);
    expect(exec.stderr).toContain("--executor expects one of local, slurm, k8s, got mesos");
    // a run of 2 tasks: its plan is frozen
    const run = path.join(dir, "r");
    const made = await runCli(["round", "--run", run, "--sources", files.join(","), "--tasks", "2", "--workers", "2", "--threads", "1", "--deterministic", "--token-budget", "20000"]);
    expect(made.code, made.stderr).toBe(0);
    const planText = fs.readFileSync(path.join(run, "plan.json"), "utf8");
    const changed = await runCli(["round", "--run", run, "--tasks", "3"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain("splits this run into 2 tasks; --tasks 3 cannot change a run's plan");
    // a task store from another run: refused by name, nothing mixed in
    const other = path.join(dir, "o");
    expect((await runCli(["round", "--run", other, "--sources", files.join(","), "--tasks", "2", "--workers", "2", "--threads", "1", "--deterministic", "--token-budget", "20000"])).code).toBe(0);
    fs.copyFileSync(path.join(other, "tasks", "00001", "work.sqlite"), path.join(run, "tasks", "00001", "work.sqlite"));
    for (const ext of ["-wal", "-shm"]) fs.rmSync(path.join(run, "tasks", "00001", `work.sqlite${ext}`), { force: true });
    const mixed = await runCli(["selected", "--run", run]);
    expect(mixed.code).toBe(3);
    expect(mixed.stderr).toMatch(/tasks\/00001\/work\.sqlite belongs to another run/);
    expect(fs.readFileSync(path.join(run, "plan.json"), "utf8")).toBe(planText);
    // a task index out of range, and a run folder the node does not see
    const range = await runCli(["task", "--run", run, "--task", "5"]);
    expect(range.code).toBe(2);
    expect(range.stderr).toContain("--task gives task 5, but the run has tasks 0 to 1");
    const unseen = await runCli(["task", "--run", path.join(dir, "nowhere"), "--task", "0"]);
    expect(unseen.code).toBe(3);
    expect(unseen.stderr).toContain("no such run folder (is it on a file system this node sees?)");
    // a cleaning map with no round, or before the coordinator wrote its settings
    const noRound = await runCli(["task", "--run", run, "--stage", "clean", "--task", "0"]);
    expect(noRound.code).toBe(2);
    expect(noRound.stderr).toContain("--stage clean needs --round N");
    const noSpec = await runCli(["task", "--run", other, "--stage", "clean", "--round", "1", "--task", "0"]);
    expect(noSpec.code).toBe(3);
    expect(noSpec.stderr).toMatch(/clean\/round-1\.json: missing or unreadable: the coordinator writes it before it starts round 1's cleaning tasks/);
    // the index from Slurm's and Kubernetes' variables
    const { taskIndex } = await import("../../src/commands/task.js");
    expect(taskIndex(undefined, { SLURM_ARRAY_TASK_ID: "3", MC_TASK_OFFSET: "1000" }, 2000)).toBe(1003);
    expect(taskIndex(undefined, { JOB_COMPLETION_INDEX: "7" }, 8)).toBe(7);
    expect(() => taskIndex(undefined, {}, 8)).toThrow(/which task\?/);
  }, 300_000);
});
