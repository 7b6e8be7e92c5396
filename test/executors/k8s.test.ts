import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { batchApi, crawlJob, parseIndexes, runJob } from "../../src/executors/k8s.js";
import { ROOT, runCli, tmpDir } from "../helpers.js";
import { RUN_FLAGS, expectSame, snapshot, splitCrawl } from "../plan/crawls.js";

/**
 * `--executor k8s`. No cluster can be had here: the Job manifest is checked against the Job API's
 * schema (the models @kubernetes/client-node generates from Kubernetes' OpenAPI document), and the
 * controller runs against a fake API server on loopback that runs each index's container command
 * on this machine with JOB_COMPLETION_INDEX set, as the Job controller's pods would.
 */
const CLI = path.join(ROOT, "dist", "src", "cli.js");

type Attr = { baseName: string; type: string };
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attr[] } | undefined>;

/** Every field of `obj` is one the API's type `type` has, with a value of its type. */
function schemaErrors(obj: unknown, type: string, at: string): string[] {
  if (type.startsWith("Array<")) {
    if (!Array.isArray(obj)) return [`${at}: not an array`];
    return obj.flatMap((x, i) => schemaErrors(x, type.slice(6, -1), `${at}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof obj !== "object" || obj === null) return [`${at}: not an object`];
    return Object.entries(obj).flatMap(([k, v]) => schemaErrors(v, map[1]!, `${at}.${k}`));
  }
  if (type === "string" || type === "Date") return typeof obj === "string" ? [] : [`${at}: not a string`];
  if (type === "number") return typeof obj === "number" ? [] : [`${at}: not a number`];
  if (type === "boolean") return typeof obj === "boolean" ? [] : [`${at}: not a boolean`];
  if (type === "IntOrString") return typeof obj === "number" || typeof obj === "string" ? [] : [`${at}: not int-or-string`];
  if (type === "any" || type === "object") return [];
  const attrs = models[type]?.getAttributeTypeMap?.();
  if (!attrs) return typeof obj === "string" ? [] : [`${at}: unknown type ${type}`]; // enums are strings
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return [`${at}: not a ${type}`];
  return Object.entries(obj).flatMap(([k, v]) => {
    const a = attrs.find((x) => x.baseName === k);
    return a ? schemaErrors(v, a.type, `${at}.${k}`) : [`${at}.${k}: no such field in ${type}`];
  });
}

const ASK = { image: "registry.example/mathcorpus:1", namespace: "corpora", pvc: "cc-runs", mount: "/runs", cpus: 4, mem: "8Gi", serviceAccount: undefined };

describe("the crawl's Indexed Job", () => {
  it("is a valid batch/v1 Job: indexed, one completion per task, retries disruptions, fails an index on a usage or input error", () => {
    const job = crawlJob({ runDir: "/runs/cc", runId: "a1b2c3", tasks: 64, workers: 8, threads: 4, ask: ASK, name: "mathcorpus-a1b2c3-crawl-x" });
    expect(schemaErrors(job, "V1Job", "job")).toEqual([]);
    // the checker does find what the API lacks
    expect(schemaErrors({ ...job, spec: { ...job.spec, completionsMode: "Indexed" } }, "V1Job", "job")).toEqual(["job.spec.completionsMode: no such field in V1JobSpec"]);
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 64, parallelism: 8, backoffLimitPerIndex: 3 });
    expect(job.spec!.podFailurePolicy!.rules).toEqual([
      { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      { action: "FailIndex", onExitCodes: { containerName: "task", operator: "In", values: [2, 3] } },
    ]);
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe("Never"); // podFailurePolicy needs it
    expect(pod.volumes).toEqual([{ name: "run", persistentVolumeClaim: { claimName: "cc-runs" } }]);
    const c = pod.containers[0]!;
    expect(c).toMatchObject({ name: "task", image: ASK.image, volumeMounts: [{ name: "run", mountPath: "/runs" }], resources: { requests: { cpu: "4", memory: "8Gi" }, limits: { memory: "8Gi" } } });
    expect(c.command!.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(c.command![2]).toContain(`exec mathcorpus task --run '/runs/cc' --stage crawl --threads 4 >> "$d/crawl.log" 2>&1`);
    expect(parseIndexes("0,2-4,7")).toEqual([0, 2, 3, 4, 7]);
  });

  it("--dry-run prints the Job as YAML; bad usage is refused before anything is created", async () => {
    const run = path.join(tmpDir("mc-k8s-"), "run");
    const dry = await runCli(["run", "--run", run, "--tasks", "4", "--executor", "k8s", "--k8s-image", "img:1", "--k8s-pvc", "claim", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    const yaml = dry.stdout.slice(dry.stdout.indexOf("# "));
    const job = k8s.loadYaml<k8s.V1Job>(yaml.slice(yaml.indexOf("\n") + 1));
    expect(job.spec).toMatchObject({ completionMode: "Indexed", completions: 4 });
    expect(schemaErrors(job, "V1Job", "job")).toEqual([]);
    expect(fs.existsSync(run)).toBe(false);
    const noImage = await runCli(["run", "--run", run, "--tasks", "4", "--executor", "k8s"]);
    expect([noImage.code, noImage.stderr]).toEqual([2, expect.stringMatching(/--executor k8s needs --k8s-image IMAGE/)]);
    const oneTask = await runCli(["run", "--run", run, "--executor", "k8s", "--k8s-image", "img:1"]);
    expect([oneTask.code, oneTask.stderr]).toEqual([2, expect.stringMatching(/--executor k8s runs the tasks of a run split into several/)]);
    const fresh = path.join(tmpDir("mc-k8s-"), "run");
    const noConfig = await runCli(["run", "--run", fresh, "--tasks", "2", "--executor", "k8s", "--k8s-image", "img:1", ...RUN_FLAGS], ROOT, { KUBECONFIG: path.join(fresh, "..", "missing-kubeconfig"), HOME: tmpDir() });
    expect([noConfig.code, noConfig.stderr]).toEqual([2, expect.stringMatching(/--executor k8s: no Kubernetes configuration could be read/)]);
    expect(fs.existsSync(fresh)).toBe(false); // said before the run (and its plan) is made
    // `mathcorpus k8s run` is `run --executor k8s`: the same Job, the same refusals
    const sub = await runCli(["k8s", "run", "--run", run, "--tasks", "4", "--k8s-image", "img:1", "--k8s-pvc", "claim", "--dry-run"]);
    expect(sub.code, sub.stderr).toBe(0);
    const subJob = k8s.loadYaml<k8s.V1Job>(sub.stdout.slice(sub.stdout.indexOf("# ")).split("\n").slice(1).join("\n"));
    expect({ ...subJob.spec, template: undefined }).toEqual({ ...job.spec, template: undefined });
    expect(subJob.spec!.template.spec!.containers[0]!.command).toEqual(job.spec!.template.spec!.containers[0]!.command);
    const subNoImage = await runCli(["k8s", "run", "--run", run, "--tasks", "4"]);
    expect([subNoImage.code, subNoImage.stderr]).toEqual([2, expect.stringMatching(/--executor k8s needs --k8s-image IMAGE/)]);
    const other = await runCli(["k8s", "apply"]);
    expect([other.code, other.stderr]).toEqual([2, expect.stringMatching(/unknown subcommand "apply"/)]);
    const twice = await runCli(["k8s", "run", "--executor", "slurm"]);
    expect([twice.code, twice.stderr]).toEqual([2, expect.stringMatching(/--executor is k8s here/)]);
    expect((await runCli(["k8s", "--help"])).stdout).toMatch(/mathcorpus k8s run --run DIR/);
  });
});

/**
 * A fake Kubernetes API: creates Jobs, runs each index's container command here (`mathcorpus` on
 * PATH is this build), `parallelism` at once, retries an index up to backoffLimitPerIndex unless
 * the podFailurePolicy fails it, and reports the Job's status as the Job controller does.
 */
async function fakeApi(binDir: string) {
  const jobs = new Map<string, k8s.V1Job>();
  const requests: string[] = [];
  const run = async (job: k8s.V1Job) => {
    const spec = job.spec!;
    const c = spec.template.spec!.containers[0]!;
    const failIndex = spec.podFailurePolicy?.rules.find((r) => r.action === "FailIndex")?.onExitCodes?.values ?? [];
    const status: k8s.V1JobStatus = { active: 0, succeeded: 0, failed: 0 };
    job.status = status;
    const completed: number[] = [];
    const failed: number[] = [];
    const next = Array.from({ length: spec.completions! }, (_, i) => i);
    const one = async (i: number) => {
      for (let attempt = 0; ; attempt++) {
        status.active!++;
        const code = await new Promise<number | null>((resolve) => {
          const p = spawn(c.command![0]!, c.command!.slice(1), { env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, JOB_COMPLETION_INDEX: String(i) }, stdio: "ignore" });
          p.on("exit", (code) => resolve(code));
        });
        status.active!--;
        if (code === 0) {
          status.succeeded!++;
          completed.push(i);
          return;
        }
        status.failed!++;
        if (failIndex.includes(code ?? -1) || attempt >= (spec.backoffLimitPerIndex ?? 0)) {
          failed.push(i);
          return;
        }
      }
    };
    const workers = Array.from({ length: spec.parallelism ?? 1 }, async () => {
      for (let i = next.shift(); i !== undefined; i = next.shift()) await one(i);
    });
    await Promise.all(workers);
    const list = (xs: number[]) => xs.sort((a, b) => a - b).join(",");
    status.completedIndexes = list(completed);
    if (failed.length) status.failedIndexes = list(failed);
    status.conditions = [{ type: failed.length ? "Failed" : "Complete", status: "True", ...(failed.length ? { reason: "FailedIndexes", message: "Job has failed indexes" } : {}) }];
  };
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      requests.push(`${req.method} ${req.url}`);
      const create = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(req.url ?? "");
      const read = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/?]+)\/status/.exec(req.url ?? "");
      res.setHeader("content-type", "application/json");
      if (req.method === "POST" && create) {
        const job = JSON.parse(body) as k8s.V1Job;
        jobs.set(`${create[1]}/${job.metadata!.name}`, job);
        void run(job);
        res.statusCode = 201;
        res.end(JSON.stringify(job));
      } else if (req.method === "GET" && read && jobs.has(`${read[1]}/${read[2]}`)) {
        res.end(JSON.stringify(jobs.get(`${read[1]}/${read[2]}`)));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ kind: "Status", message: `not found: ${req.url}` }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, jobs, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function kubeconfig(dir: string, server: string): string {
  const file = path.join(dir, "kubeconfig");
  fs.writeFileSync(
    file,
    k8s.dumpYaml({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "me", user: { token: "t" } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "me", namespace: "corpora" } }],
      "current-context": "fake",
    }),
  );
  return file;
}

describe("--executor k8s against a fake API server", () => {
  it("runs the crawl and each round's scoring as Indexed Jobs and gives exactly the result of one task; a failing index stops the crawl, names the task, and a rerun runs only it", async () => {
    const dir = tmpDir("mc-k8s-run-");
    const files = await splitCrawl(path.join(dir, "crawl"), 4);
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "mathcorpus"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    const api = await fakeApi(bin);
    try {
      const env = { KUBECONFIG: kubeconfig(dir, api.url), MC_K8S_POLL_MS: "100" };
      const one = path.join(dir, "one");
      const a = await runCli(["run", "--run", one, "--sources", files.join(","), ...RUN_FLAGS]);
      expect(a.code, a.stderr).toBe(0);
      const viaK8s = path.join(dir, "k8s");
      const b = await runCli(["run", "--run", viaK8s, "--sources", files.join(","), "--tasks", "3", "--workers", "2", "--executor", "k8s", "--k8s-image", "img:1", "--k8s-namespace", "corpora", ...RUN_FLAGS], ROOT, env);
      expect(b.code, b.stderr).toBe(0);
      expect(b.stderr).toMatch(/round 1: crawling 4 files in 3 tasks as Kubernetes Indexed Job corpora\/mathcorpus-[a-z0-9-]+-crawl-[a-z0-9]+ \(2 at once\), 3 to run, 0 done before/);
      // one Job for the crawl, then one for each round's scoring, then one for the last round's cleaning map, each of the plan's 3 tasks
      const rounds = (JSON.parse(b.stdout) as { rounds: Array<{ round: number }> }).rounds.map((r) => r.round);
      expect(rounds.length).toBeGreaterThan(1);
      const made = [...api.jobs.values()];
      const last = rounds[rounds.length - 1]!;
      expect(made.map((j) => j.metadata!.labels!["app.kubernetes.io/component"])).toEqual(["crawl", ...rounds.map((r) => `score-${r}`), `clean-${last}`]);
      expect(made.map((j) => j.spec!.completions)).toEqual(made.map(() => 3));
      expect(made[1]!.spec!.template.spec!.containers[0]!.command![2]).toContain(`--stage score --round ${rounds[0]}`);
      expect(made[made.length - 1]!.spec!.template.spec!.containers[0]!.command![2]).toContain(`--stage clean --round ${last}`);
      expect(b.stderr).toMatch(new RegExp(`round ${last}: cleaning map in 3 tasks as Kubernetes Indexed Job corpora/mathcorpus-[a-z0-9-]+-clean-${last}-[a-z0-9]+, 3 to run`));
      expect(fs.readFileSync(path.join(viaK8s, "tasks", "00001", `clean-${last}.log`), "utf8")).toMatch(new RegExp(`task 1: round ${last}: \\d+ selected documents mapped for cleaning`));
      expect(api.requests.filter((r) => r.startsWith("POST"))).toEqual(made.map(() => "POST /apis/batch/v1/namespaces/corpora/jobs"));
      expect(b.stderr).toMatch(new RegExp(`round ${rounds[0]}: scoring in 3 tasks as Kubernetes Indexed Job corpora/mathcorpus-[a-z0-9-]+-score-${rounds[0]}-[a-z0-9]+, 3 to run`));
      expect(fs.readFileSync(path.join(viaK8s, "k8s", "crawl-job.yaml"), "utf8")).toMatch(/completionMode: Indexed/);
      expect(fs.existsSync(path.join(viaK8s, "k8s", `score-${rounds[0]}-job.yaml`))).toBe(true);
      expect(fs.existsSync(path.join(viaK8s, "tasks", "00002", "crawl.log"))).toBe(true);
      expect(fs.existsSync(path.join(viaK8s, "tasks", "00002", `score-${rounds[0]}.log`))).toBe(true);
      expectSame(snapshot(viaK8s), snapshot(one));

      // one source that is not a WARC: its task's index fails; the crawl stops and names it
      const broken = [...files];
      broken[3] = path.join(dir, "crawl", "not-a-warc.warc.gz");
      fs.writeFileSync(broken[3], "<html>not a WARC</html>\n".repeat(100));
      const failing = path.join(dir, "failing");
      const c = await runCli(["run", "--run", failing, "--sources", broken.join(","), "--tasks", "3", "--workers", "3", "--executor", "k8s", "--k8s-image", "img:1", ...RUN_FLAGS], ROOT, env);
      expect(c.code, c.stderr).toBe(4);
      expect(c.stderr).toMatch(/error: round 1: crawl task \d failed \(exit 4\): .*not-a-warc\.warc\.gz/);
      expect(c.stderr).toMatch(/1 of 3 crawl tasks failed, so the rounds do not start/);
      const status = JSON.parse((await runCli(["status", "--run", failing, "--json"])).stdout) as { stages: { crawl: Array<{ state: string }> } };
      expect(status.stages.crawl.map((s) => s.state).sort()).toEqual(["done", "done", "failed"]);
      // fixed: the same file name now holds a good WARC; the rerun's Job runs the failed task only
      fs.copyFileSync(files[3]!, broken[3]);
      const before = api.jobs.size;
      const d = await runCli(["run", "--run", failing, "--executor", "k8s", "--k8s-image", "img:1", ...RUN_FLAGS], ROOT, env);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stderr).toMatch(/3 tasks as Kubernetes Indexed Job .*, 1 to run, 2 done before/);
      expect([...api.jobs.values()][before]!.metadata!.labels!["app.kubernetes.io/component"]).toBe("crawl");
    } finally {
      await api.close();
    }
  }, 400_000);
});

describe("an interrupted controller", () => {
  /** An API server whose Jobs never finish; DELETE answers `deleteStatus`. */
  async function stuckApi(deleteStatus: number): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
    const requests: string[] = [];
    const jobs = new Map<string, k8s.V1Job>();
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        requests.push(`${req.method} ${req.url}`);
        res.setHeader("content-type", "application/json");
        const m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs(?:\/([^/?]+))?/.exec(req.url ?? "");
        if (req.method === "POST" && m && !m[2]) {
          const job = JSON.parse(body) as k8s.V1Job;
          job.status = { active: 2 };
          jobs.set(job.metadata!.name!, job);
          res.statusCode = 201;
          res.end(JSON.stringify(job));
        } else if (req.method === "GET" && m?.[2] && jobs.has(m[2])) {
          res.end(JSON.stringify(jobs.get(m[2])));
        } else if (req.method === "DELETE" && m?.[2]) {
          res.statusCode = deleteStatus;
          res.end(JSON.stringify(deleteStatus < 300 ? { kind: "Status", status: "Success" } : { kind: "Status", message: "jobs.batch is forbidden: no delete verb" }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ kind: "Status", message: "not found" }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  it("deletes its Job with its pods (propagationPolicy Background), or says it could not", async () => {
    const dir = tmpDir("mc-k8s-stop-");
    for (const [status, want] of [
      [200, true],
      [404, true],
      [403, expect.stringMatching(/HTTP 403: jobs\.batch is forbidden/)],
    ] as const) {
      const api = await stuckApi(status);
      try {
        const batch = batchApi({ KUBECONFIG: kubeconfig(dir, api.url) });
        const job = crawlJob({ runDir: "/runs/cc", runId: "r1", tasks: 4, workers: 2, threads: 1, name: "mc-r1-crawl-x", ask: ASK });
        const ac = new AbortController();
        const end = await runJob(batch, job, { pollMs: 20, signal: ac.signal, onStatus: () => ac.abort() });
        expect(end).toMatchObject({ name: "mc-r1-crawl-x", complete: false, reason: "interrupted", deleted: want });
        expect(api.requests.filter((r) => r.startsWith("DELETE"))).toEqual(["DELETE /apis/batch/v1/namespaces/corpora/jobs/mc-r1-crawl-x?propagationPolicy=Background"]);
      } finally {
        await api.close();
      }
    }
  });
  it("Ctrl-C on `mathcorpus k8s run` deletes the crawl Job and says so (exit 130)", async () => {
    const dir = tmpDir("mc-k8s-int-");
    const api = await stuckApi(200);
    try {
      const child = spawn(process.execPath, [path.join(ROOT, "dist", "src", "cli.js"), "k8s", "run", "--run", path.join(dir, "run"), "--sources", path.join(ROOT, "data", "crawl-sample.warc.gz"), "--tasks", "2", "--k8s-image", "img:1", "--max-rounds", "1"], {
        env: { ...process.env, KUBECONFIG: kubeconfig(dir, api.url), MC_K8S_POLL_MS: "50" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      const deadline = Date.now() + 30_000;
      while (!api.requests.some((r) => r.startsWith("GET "))) {
        if (Date.now() > deadline) throw new Error(`no Job was read: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      const name = /jobs\/([^/?]+)\/status/.exec(api.requests.find((r) => r.startsWith("GET "))!)![1]!;
      expect(api.requests).toContain(`DELETE /apis/batch/v1/namespaces/default/jobs/${name}?propagationPolicy=Background`);
      expect(stderr).toContain(`k8s: interrupted: Job default/${name} deleted with its pods; a rerun runs the tasks not done`);
    } finally {
      await api.close();
    }
  });
});
