import type { Command } from "./command.js";

/** Commands, loaded only when called. */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  run: {
    summary: "run the pipeline on the bundled sample or your sources (today: the WARC stage)",
    load: async () => (await import("./run.js")).command,
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
  pages: {
    summary: "list the HTML pages inside WARC files, URLs or Common Crawl crawls, with counts by reason",
    load: async () => (await import("./pages.js")).command,
  },
};
