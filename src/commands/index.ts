import type { Command } from "./command.js";

/** Commands, loaded only when called. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: "the main job: crawl-filter rounds until convergence or --max-rounds, on the bundled sample by default",
    load: async () => (await import("./run.js")).command,
  },
  round: {
    summary: "run the next crawl-filter round of a run (round 1 crawls the sources)",
    load: async () => (await import("./round.js")).command,
  },
  clean: {
    summary: "dedup (exact, MinHash near-dup) and benchmark decontamination of a round's selection",
    load: async () => (await import("./clean.js")).command,
  },
  export: {
    summary: "write a cleaned round as token-balanced SQLite shards with a manifest",
    load: async () => (await import("./export.js")).command,
  },
  verify: {
    summary: "check a shard set against its manifest; exit 5 on any mismatch",
    load: async () => (await import("./verify.js")).command,
  },
  domains: {
    summary: "math-related hosts and URL prefixes of a round; accept/reject prefixes",
    load: async () => (await import("./domains.js")).command,
  },
  report: {
    summary: "write a run's self-contained HTML report: funnel, score histograms, PR curves, hosts, matches, sample pages",
    load: async () => (await import("./report.js")).command,
  },
  review: {
    summary: "a local web page to review math-related hosts' URL prefixes and accept or reject them",
    load: async () => (await import("./review.js")).command,
  },
  selected: {
    summary: "list a round's selected pages (url, domain, score, round first selected)",
    load: async () => (await import("./selected.js")).command,
  },
  extract: {
    summary: "extract text (mathematics kept as LaTeX) and language from WARC, HTML or JSONL sources",
    load: async () => (await import("./extract.js")).command,
  },
  train: {
    summary: "train a fastText math classifier from seeds and negatives (held-out metrics in its sidecar)",
    load: async () => (await import("./train.js")).command,
  },
  score: {
    summary: "score documents with a math classifier: P(math) per document as JSON lines",
    load: async () => (await import("./score.js")).command,
  },
  eval: {
    summary: "classifier precision/recall, recall at 1% FPR, ROC/PR-AUC on held-out seeds and negatives",
    load: async () => (await import("./eval.js")).command,
  },
  status: {
    summary: "per stage and task of a run: done / running / failed / pending, with the failed task's log and reason",
    load: async () => (await import("./status.js")).command,
  },
  k8s: {
    summary: "run a run's stages as Kubernetes Indexed Jobs: `k8s run` is `run --executor k8s`",
    load: async () => (await import("./k8s.js")).command,
  },
  task: {
    summary: "run one task of a run split into tasks (what the executors launch)",
    load: async () => (await import("./task.js")).command,
  },
  pages: {
    summary: "list the HTML pages inside WARC files, URLs or Common Crawl crawls, with counts by reason",
    load: async () => (await import("./pages.js")).command,
  },
};
