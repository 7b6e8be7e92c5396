import os from "node:os";
import { UsageError } from "../core/errors.js";
import type { OptionSpecs, Resolved } from "../core/options.js";
import { checkTokenizer } from "../core/tokens.js";
import { checkEngine, engineOptionSpecs } from "./classify.js";
import { checkTasks } from "../plan/plan.js";

/** The executors that launch a run's tasks. */
export const EXECUTORS = ["local", "slurm", "k8s"];

/** Options of `round` and `run`: selection, domains, annotation, convergence. */
export const roundOptionSpecs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory: config.json, work.sqlite, models/, reports/, logs/" },
  sources: { type: "list", default: [], arg: "SOURCE,...", help: "WARC sources crawled in round 1 (default: the bundled sample crawl); later rounds re-score stored text" },
  allowFailedSources: {
    type: "boolean",
    default: false,
    help: "round 1 goes on to train and select although some sources could not be read to their end (default: it stops after the crawl, exit 4, and a rerun retries them)",
  },
  seeds: { type: "string", default: "", arg: "PATH", help: "seed corpus: a JSON-lines (.jsonl, .ndjson; .gz/.zst too, and Dolma's .json.gz) or Parquet file with id and text or html, or a folder tree of them (default: the bundled seeds/)" },
  negatives: {
    type: "list",
    default: [],
    arg: "SOURCE,...",
    help: "a fixed pool of negatives to sample from instead of the crawl's own pages (a random web sample, for a targeted crawl or a crawl of math sites): JSONL/Parquet/HTML files used whole, WARC sources sampled; its pages that score like the seeds are still left out",
  },
  tokenBudget: { type: "number", arg: "TOKENS", help: "select top pages until this many tokens of --tokenizer (the paper kept the top 40B tokens in round 1) [default: none; 40000 on the bundled sample]" },
  tokenizer: {
    type: "string",
    arg: "cl100k|deepseek-v3",
    help: "tokenizer of token budgets, totals and shard sizes, fixed for a run at its first round: cl100k (gpt-tokenizer) or deepseek-v3 (DeepSeek-V3's own vocabulary, ~4x slower to count) [default: cl100k]",
  },
  threshold: {
    type: "number",
    arg: "P",
    help: "select pages whose P(math) is at least P: the raw score mapped to a probability for a page of this crawl (Platt scaling fitted on held-out seeds and sampled pages, weighted by the crawl's estimated math share); the raw score is kept beside it [default: 0.5 when the map can be fitted, else see --fpr]",
  },
  fpr: {
    type: "number",
    arg: "SHARE",
    help: "select instead by false-positive rate: the cut-off lets at most this share of the crawl's non-math pages score above it (its math share estimated and allowed for) [default: 0.01 where P(math) cannot be calibrated; held-out recall is reported at it]",
  },
  domainShare: { type: "number", default: 0.1, arg: "SHARE", help: "a host with more than this share of its pages selected is math-related (the paper: 10%)" },
  minDomainPages: { type: "number", default: 3, arg: "N", help: "hosts with fewer stored pages are never math-related (one selected page is not a math site)" },
  autoAccept: { type: "number", arg: "SHARE", help: "accept URL prefixes of math-related hosts whose selected share is at least SHARE (unattended runs) [default: none; 0.5 on the bundled sample]" },
  tasks: {
    type: "number",
    arg: "N",
    help: "split the run into N tasks, fixed when it starts (plan.json): each reads its share of the files into its own store, and the result is the same for any N [default: 1]",
  },
  executor: {
    type: "string",
    default: "local",
    arg: "local|slurm|k8s",
    help: "what launches the tasks of a run of several: local (worker processes on this machine), slurm (sbatch job arrays, then the rest of the run as a job after them; this command submits and returns) or k8s (the crawl as a Kubernetes Indexed Job, created through the API of KUBECONFIG's cluster and waited for; the rest of the run goes on here)",
  },
  workers: { type: "number", default: os.availableParallelism(), arg: "N", help: "tasks run at once: local processes, or Slurm's array throttle (%N) [default: one per core]" },
  slurmPartition: { type: "string", arg: "NAME", help: "sbatch --partition of the jobs [default: the cluster's]" },
  slurmAccount: { type: "string", arg: "NAME", help: "sbatch --account [default: the cluster's]" },
  slurmQos: { type: "string", arg: "NAME", help: "sbatch --qos [default: the cluster's]" },
  slurmTime: { type: "string", arg: "TIME", help: "sbatch --time per task, e.g. 2:00:00 [default: the partition's]" },
  slurmMem: { type: "string", arg: "SIZE", help: "sbatch --mem per task, e.g. 8G [default: the partition's]" },
  slurmCpus: { type: "number", arg: "N", help: "sbatch --cpus-per-task [default: the task's --threads]" },
  k8sImage: { type: "string", arg: "IMAGE", help: "with --executor k8s: the container image of the crawl pods, with mathcorpus on its PATH (required)" },
  k8sNamespace: { type: "string", default: "default", arg: "NAME", help: "with --executor k8s: the namespace of the Job" },
  k8sPvc: { type: "string", arg: "CLAIM", help: "with --executor k8s: the PersistentVolumeClaim that holds the run folder (and local sources), mounted in the pods at --k8s-mount [default: none: the image or node provides the path]" },
  k8sMount: { type: "string", arg: "DIR", help: "with --executor k8s: where the claim is mounted in the pods, the same path it has here [default: the run folder's parent]" },
  k8sCpus: { type: "number", arg: "N", help: "with --executor k8s: CPUs requested per pod, and its extraction threads [default: the task's --threads]" },
  k8sMem: { type: "string", arg: "SIZE", help: "with --executor k8s: memory per pod (request and limit), e.g. 8Gi [default: none]" },
  k8sServiceAccount: { type: "string", arg: "NAME", help: "with --executor k8s: the pods' service account [default: the namespace's]" },
  unlabeledNegatives: {
    type: "boolean",
    default: true,
    help: "treat the pages sampled from the crawl as unlabeled, not as non-math: two cross-fitted models (trained on halves of the sample) leave out the pages that score like the seeds before the round's model is trained, so a crawl where math is common does not teach the model that math is not math",
  },
  scoreProcesses: { type: "number", default: os.availableParallelism(), arg: "N", help: "scoring threads (fastText processes with --engine binary)" },
  candidatePool: {
    type: "boolean",
    default: false,
    help: "round 1 extracts only a candidate pool: every page gets a cheap first pass (its text outside tags, math signals, a score by a small model trained on the seeds against the crawl's first pages), and only pages that carry a math signal or clear a bar keeping --pool-recall of the held-out seeds are fully extracted and scored by the rounds; the others are stored as small rows (place, URL, host, first-pass score), counted in the host statistics, and extracted only if promoted. Fixed when a run's crawl starts",
  },
  poolRecall: { type: "number", default: 0.995, arg: "SHARE", help: "with --candidate-pool: share of the held-out seeds whose first-pass score the bar keeps" },
  poolSample: { type: "number", default: 4000, arg: "N", help: "with --candidate-pool: pages read from the start of the sources to train the first-pass model against" },
  ...engineOptionSpecs,
} as const satisfies OptionSpecs;

export type RoundOptions = Resolved<typeof roundOptionSpecs>;

export function validateRoundOptions(o: RoundOptions): void {
  const share = (flag: string, v: number | undefined) => {
    if (v !== undefined && !(v >= 0 && v <= 1)) throw new UsageError(`--${flag} expects a share from 0 to 1, got ${v}`);
  };
  share("fpr", o.fpr);
  share("domain-share", o.domainShare);
  share("auto-accept", o.autoAccept);
  share("threshold", o.threshold);
  if (o.tokenBudget !== undefined && !(o.tokenBudget >= 0)) throw new UsageError(`--token-budget expects a number ≥ 0, got ${o.tokenBudget}`);
  if (!Number.isInteger(o.minDomainPages) || o.minDomainPages < 1) throw new UsageError(`--min-domain-pages expects a whole number ≥ 1, got ${o.minDomainPages}`);
  checkEngine(o.engine);
  if (o.tokenizer !== undefined) checkTokenizer(o.tokenizer);
  if (o.tasks !== undefined) checkTasks(o.tasks);
  if (!EXECUTORS.includes(o.executor)) throw new UsageError(`--executor expects one of ${EXECUTORS.join(", ")}, got ${o.executor}`);
  if (o.executor === "k8s" && !o.k8sImage) throw new UsageError("--executor k8s needs --k8s-image IMAGE: a container image with mathcorpus on its PATH");
  if (o.k8sCpus !== undefined && !(Number.isInteger(o.k8sCpus) && o.k8sCpus >= 1)) throw new UsageError(`--k8s-cpus expects a whole number ≥ 1, got ${o.k8sCpus}`);
  if (!Number.isInteger(o.workers) || o.workers < 1) throw new UsageError(`--workers expects a whole number ≥ 1, got ${o.workers}`);
  if (!Number.isInteger(o.scoreProcesses) || o.scoreProcesses < 1) throw new UsageError(`--score-processes expects a whole number ≥ 1, got ${o.scoreProcesses}`);
  if (!(o.poolRecall > 0 && o.poolRecall <= 1)) throw new UsageError(`--pool-recall expects a share above 0, at most 1, got ${o.poolRecall}`);
  if (!Number.isInteger(o.poolSample) || o.poolSample < 1) throw new UsageError(`--pool-sample expects a whole number ≥ 1, got ${o.poolSample}`);
}
