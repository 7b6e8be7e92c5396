import fs from "node:fs";
import path from "node:path";
import { writeAtomic } from "../core/atomic.js";
import type { Logger } from "../core/log.js";
import { mergeSorted } from "../core/merge.js";
import { type IngestStats, emptyIngest } from "../rounds/ingest.js";
import type { RunStores } from "../store/stores.js";
import type { DropReason } from "../warc/reasons.js";
import { taskDir } from "./plan.js";

/** The stages a task runs: round 1's crawl, each round's scoring, and clean's map. The rest runs in the coordinator. */
export const STAGES = ["crawl", "score", "clean"] as const;
export type Stage = (typeof STAGES)[number];

/** What a task's marker and log are named by: "crawl", or "score-N" / "clean-N" for round N's scoring / cleaning map. */
export const stepKey = (stage: Stage, round?: number): string => (stage === "crawl" ? stage : `${stage}-${round}`);

/**
 * What a task left when it ended (`tasks/NNNNN/crawl.json`), written atomically after its store
 * was checkpointed: "done" is recorded only once its writes are durable. "failed": sources that
 * could not be read to their end (`failed_sources`; a rerun retries them, finished files are
 * skipped) or an error (`error`).
 */
export interface TaskMarker {
  /** stepKey: "crawl" or "score-N". */
  stage: string;
  task: number;
  status: "done" | "failed";
  files: number;
  skipped: number;
  failed_sources: string[];
  pages: number;
  documents: number;
  /** Of the documents, pages stored as small rows outside the candidate pool (absent: none). */
  outside?: number;
  url_dups: number;
  bytes: number;
  dropped: { warc: Record<string, number>; extract: Record<string, number> };
  error?: string;
  seconds: number;
  finished: string;
}

export const markerPath = (runDir: string, stage: string, t: number): string => path.join(taskDir(runDir, t), `${stage}.json`);
export const taskLogPath = (runDir: string, stage: string, t: number): string => path.join(taskDir(runDir, t), `${stage}.log`);

export function readMarker(runDir: string, stage: string, t: number): TaskMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(markerPath(runDir, stage, t), "utf8")) as TaskMarker;
  } catch {
    return undefined; // none, or torn by a crash before the rename (never: it is written atomically)
  }
}

export function taskDone(runDir: string, stage: string, t: number): boolean {
  return readMarker(runDir, stage, t)?.status === "done";
}

export function writeMarker(runDir: string, m: TaskMarker): void {
  fs.mkdirSync(taskDir(runDir, m.task), { recursive: true });
  writeAtomic(markerPath(runDir, m.stage, m.task), JSON.stringify(m) + "\n");
}

export function clearMarker(runDir: string, stage: string, t: number): void {
  fs.rmSync(markerPath(runDir, stage, t), { force: true });
}

/** A scoring (or cleaning map) task's marker: `documents` scored (or mapped). */
export function scoreMarker(round: number, t: number, documents: number, seconds: number, stage: "score" | "clean" = "score"): TaskMarker {
  return { stage: stepKey(stage, round), task: t, status: "done", files: 0, skipped: 0, failed_sources: [], pages: 0, documents, url_dups: 0, bytes: 0, dropped: { warc: {}, extract: {} }, seconds, finished: new Date().toISOString() };
}

/** A crawl task's marker from what its ingest did. */
export function crawlMarker(t: number, ing: IngestStats, seconds: number, error?: string): TaskMarker {
  return {
    stage: "crawl",
    task: t,
    status: ing.failed.length === 0 && error === undefined ? "done" : "failed",
    files: ing.files,
    skipped: ing.skipped,
    failed_sources: ing.failed,
    pages: ing.pages,
    documents: ing.kept,
    ...(ing.extract.outside ? { outside: ing.extract.outside } : {}),
    url_dups: ing.urlDups,
    bytes: ing.warc.bytesIn,
    dropped: { warc: ing.warc.dropped.toJSON() as Record<string, number>, extract: ing.extract.dropped.toJSON() as Record<string, number> },
    ...(error !== undefined ? { error } : {}),
    seconds,
    finished: new Date().toISOString(),
  };
}

/** What several crawl tasks did, summed as one ingest's statistics (for the round-1 lines and JSON). */
export function ingestOfMarkers(markers: TaskMarker[]): IngestStats {
  const total = emptyIngest();
  const { warc, extract } = total;
  for (const m of markers) {
    total.files += m.files;
    total.skipped += m.skipped;
    total.failed.push(...m.failed_sources);
    total.pages += m.pages;
    total.kept += m.documents;
    extract.outside += m.outside ?? 0;
    total.urlDups += m.url_dups;
    warc.pages += m.pages;
    warc.bytesIn += m.bytes;
    for (const [r, n] of Object.entries(m.dropped.warc)) warc.dropped.add(r as DropReason, n);
    for (const [r, n] of Object.entries(m.dropped.extract)) extract.dropped.add(r as Parameters<typeof extract.dropped.add>[0], n);
  }
  return total;
}

/**
 * The reduce after a crawl split into tasks: a normalised URL stored by several tasks keeps the
 * copy with the lowest id — the one a single process would have stored first (ids order pages
 * file by file) — and the others are removed, counted as `url_dup` of their file. Each part's
 * URLs are read in order through the unique index on `url_norm` and merged, so memory does not
 * grow with the crawl. Idempotent: a rerun after a kill finds what is left to remove.
 */
export function dedupUrlsAcrossTasks(stores: RunStores, logger: Logger): { removed: number; outside: number } {
  if (stores.parts.length < 2) return { removed: 0, outside: 0 };
  type U = { url_norm: string; id: number; warc_file: string; extracted: number; part: number };
  const streams = stores.parts.map((p, i) =>
    (function* () {
      for (const r of p.db.prepare("SELECT url_norm, id, warc_file, extracted FROM documents ORDER BY url_norm").iterate() as Iterable<Omit<U, "part">>) yield { ...r, part: i };
    })(),
  );
  const losers: U[] = [];
  let group: U[] = [];
  const close = () => {
    if (group.length > 1) {
      const keep = group.reduce((a, b) => (b.id < a.id ? b : a));
      for (const u of group) if (u !== keep) losers.push(u);
    }
    group = [];
  };
  for (const u of mergeSorted(streams, (a, b) => utf8Less(a.url_norm, b.url_norm))) {
    if (group.length > 0 && group[0]!.url_norm !== u.url_norm) close();
    group.push(u);
  }
  close();
  stores.parts.forEach((p, i) => {
    const mine = losers.filter((u) => u.part === i);
    if (mine.length === 0) return;
    const delDoc = p.db.prepare("DELETE FROM documents WHERE id = ?");
    const delFeatures = p.db.prepare("DELETE FROM features WHERE doc_id = ?");
    p.db.transaction(() => {
      for (const u of mine) {
        delDoc.run(u.id);
        delFeatures.run(u.id);
        p.addDrops(u.warc_file, "extract", { url_dup: 1 });
      }
    })();
  });
  // of them, small rows outside a candidate pool (for the crawl's counts)
  const outside = losers.filter((u) => u.extracted === 0).length;
  logger.log("info", "url_dedup_across_tasks", { removed: losers.length, outside, tasks: stores.parts.length });
  return { removed: losers.length, outside };
}

/**
 * a < b in the order of their UTF-8 bytes (SQLite's BINARY collation), which is code-point
 * order; JavaScript's `<` compares UTF-16 units, which puts U+E000–U+FFFF after astral characters.
 */
export function utf8Less(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx !== sy && (sx ? y : x) >= 0xe000) return sy; // a surrogate (astral) sorts after U+E000–U+FFFF
    return x < y;
  }
  return a.length < b.length;
}
