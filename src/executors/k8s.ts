import { setTimeout as sleep } from "node:timers/promises";
import { BatchV1Api, KubeConfig, type V1Job, dumpYaml } from "@kubernetes/client-node";
import { InputError, UsageError } from "../core/errors.js";

/** What the run asks of the cluster. */
export interface K8sAsk {
  /** A container image with `mathcorpus` on its PATH (and node). */
  image: string;
  namespace: string;
  /** The PersistentVolumeClaim holding the run folder (and local sources), mounted at `mount`. */
  pvc: string | undefined;
  /** Where the claim is mounted in the pods: the same path the run folder has here. */
  mount: string;
  cpus: number | undefined;
  mem: string | undefined;
  serviceAccount: string | undefined;
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A Kubernetes name part from `s` (lower-case alphanumerics and dashes). */
function dnsPart(s: string, max: number): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, max)
      .replace(/-+$/, "") || "run"
  );
}

/**
 * Round 1's crawl as a Kubernetes Indexed Job: one pod per task (`JOB_COMPLETION_INDEX` is the
 * task), `parallelism` at once. A pod evicted, preempted or lost with its node is retried without
 * counting against the index's limit (podFailurePolicy: DisruptionTarget → Ignore); an exit 2 or 3
 * (bad usage, unusable input: the same again) fails its index at once; others are retried up to
 * `backoffLimitPerIndex` times. Each pod appends its output to the task's log in the run folder,
 * as the local executor does, so `status` names it. A task already done exits at once.
 */
export function crawlJob(o: JobAsk): V1Job {
  return taskJob({ ...o, stage: "crawl", stageArgs: "--stage crawl" });
}

type JobAsk = { runDir: string; runId: string; tasks: number; workers: number; threads: number; ask: K8sAsk; name: string };

/**
 * A stage of a run's tasks as an Indexed Job (see crawlJob): `stage` names the log
 * (`tasks/NNNNN/<stage>.log`) and the pods' component label, `stageArgs` what `mathcorpus task` runs
 * (`--stage score --round 2` for a round's scoring).
 */
export function taskJob(o: JobAsk & { stage: string; stageArgs: string }): V1Job {
  const a = o.ask;
  const script = [
    `d=${sh(o.runDir)}/tasks/$(printf %05d "$JOB_COMPLETION_INDEX")`,
    `mkdir -p "$d"`,
    `exec mathcorpus task --run ${sh(o.runDir)} ${o.stageArgs} --threads ${o.threads} >> "$d/${o.stage}.log" 2>&1`,
  ].join("; ");
  const requests = { ...(a.cpus ? { cpu: String(a.cpus) } : {}), ...(a.mem ? { memory: a.mem } : {}) };
  const resources = { ...(Object.keys(requests).length ? { requests } : {}), ...(a.mem ? { limits: { memory: a.mem } } : {}) };
  const labels = { "app.kubernetes.io/name": "mathcorpus", "app.kubernetes.io/component": o.stage, "mathcorpus/run": dnsPart(o.runId, 63) };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: o.name, namespace: a.namespace, labels },
    spec: {
      completionMode: "Indexed",
      completions: o.tasks,
      parallelism: Math.max(1, Math.min(o.workers, o.tasks)),
      backoffLimitPerIndex: 3,
      podFailurePolicy: {
        rules: [
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
          { action: "FailIndex", onExitCodes: { containerName: "task", operator: "In", values: [2, 3] } },
        ],
      },
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          ...(a.serviceAccount ? { serviceAccountName: a.serviceAccount } : {}),
          containers: [
            {
              name: "task",
              image: a.image,
              command: ["/bin/sh", "-c", script],
              ...(Object.keys(resources).length ? { resources } : {}),
              ...(a.pvc ? { volumeMounts: [{ name: "run", mountPath: a.mount }] } : {}),
            },
          ],
          ...(a.pvc ? { volumes: [{ name: "run", persistentVolumeClaim: { claimName: a.pvc } }] } : {}),
        },
      },
    },
  };
}

export function jobYaml(job: V1Job): string {
  return dumpYaml(job);
}

/** The name of a new Job of run `runId`'s `stage` (each submission gets its own: finished Jobs stay). */
export function jobName(runId: string, stage: string, now = Date.now()): string {
  return `mathcorpus-${dnsPart(runId, 20)}-${dnsPart(stage, 10)}-${now.toString(36)}`;
}

/** The cluster's API from `env`'s KUBECONFIG, else ~/.kube/config or the pod's service account. */
export function batchApi(env: Record<string, string | undefined>): BatchV1Api {
  const kc = new KubeConfig();
  try {
    const file = env.KUBECONFIG?.split(":").find(Boolean);
    if (file) kc.loadFromFile(file);
    else kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`--executor k8s: no Kubernetes configuration could be read (${(err as Error).message}): set KUBECONFIG, or run this in a pod`);
  }
  if (!kc.getCurrentCluster()) throw new UsageError("--executor k8s: no Kubernetes cluster is configured: set KUBECONFIG (a kubeconfig with a current context), or run this in a pod");
  return kc.makeApiClient(BatchV1Api);
}

/** Indexes in Kubernetes' compressed form ("1,3-5") → numbers. */
export function parseIndexes(s: string | undefined): number[] {
  if (!s) return [];
  return s.split(",").flatMap((p) => {
    const [a, b] = p.split("-").map(Number);
    if (b === undefined) return [a!];
    return Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
  });
}

export interface JobEnd {
  name: string;
  complete: boolean;
  succeeded: number[];
  failed: number[];
  reason: string | undefined;
  /** Interrupted: whether the Job (and with it its pods) was deleted; why not, if it was not. */
  deleted?: true | string;
}

/**
 * Deletes Job `name` and, in the background, its pods (the API's propagationPolicy Background:
 * without it a deleted Job's pods are orphaned and run on). True, or why it could not be deleted.
 */
export async function deleteJob(api: BatchV1Api, namespace: string, name: string): Promise<true | string> {
  try {
    await api.deleteNamespacedJob({ namespace, name, propagationPolicy: "Background" });
    return true;
  } catch (err) {
    const code = (err as { code?: number }).code;
    return code === 404 ? true : apiMessage(err); // already gone is deleted
  }
}

/**
 * Creates `job` and waits until it completes or fails (its Complete or Failed condition), polling
 * every `pollMs`; `onStatus` hears of progress. An abort (Ctrl-C, SIGTERM of the controller)
 * deletes the Job with its pods, as stopping a local run stops its task processes: a task stops
 * where it is, keeps what it recorded as durable, and a rerun creates a new Job that runs only the
 * tasks not done (two pods of one task never run at once, as they would beside an orphaned pod).
 */
export async function runJob(api: BatchV1Api, job: V1Job, o: { pollMs: number; signal?: AbortSignal | undefined; onStatus?: (succeeded: number, failed: number, active: number) => void }): Promise<JobEnd> {
  const namespace = job.metadata!.namespace!;
  const name = job.metadata!.name!;
  try {
    await api.createNamespacedJob({ namespace, body: job });
  } catch (err) {
    throw new InputError(`--executor k8s: the Job ${namespace}/${name} could not be created: ${apiMessage(err)}`);
  }
  for (;;) {
    if (o.signal?.aborted) return { name, complete: false, succeeded: [], failed: [], reason: "interrupted", deleted: await deleteJob(api, namespace, name) };
    let got: V1Job;
    try {
      got = await api.readNamespacedJobStatus({ namespace, name });
    } catch (err) {
      throw new InputError(`--executor k8s: the status of Job ${namespace}/${name} could not be read: ${apiMessage(err)}`);
    }
    const s = got.status ?? {};
    o.onStatus?.(s.succeeded ?? 0, s.failed ?? 0, s.active ?? 0);
    const cond = (type: string) => s.conditions?.find((c) => c.type === type && c.status === "True");
    const done = cond("Complete");
    const failed = cond("Failed");
    if (done || failed) {
      return { name, complete: !!done, succeeded: parseIndexes(s.completedIndexes), failed: parseIndexes(s.failedIndexes), reason: failed ? `${failed.reason ?? "Failed"}: ${failed.message ?? ""}`.trim() : undefined };
    }
    await sleep(o.pollMs, undefined, { signal: o.signal }).catch(() => undefined);
  }
}

function apiMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = typeof e.body === "string" ? e.body : JSON.stringify(e.body ?? "");
  try {
    const parsed = JSON.parse(body) as { message?: string };
    if (parsed.message) body = parsed.message;
  } catch {
    /* as it came */
  }
  return `${e.code ? `HTTP ${e.code}: ` : ""}${body && body !== '""' ? body : (e.message ?? String(err))}`.slice(0, 500);
}
