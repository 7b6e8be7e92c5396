import crypto from "node:crypto";
import type { Logger } from "../core/log.js";
import { countLine } from "../core/progress.js";
import { Counters } from "../core/stats.js";
import type { BenchmarkIndex } from "../decont/index.js";
import { type MinHashConfig, MinHasher } from "../dedup/minhash.js";
import type { RunStores } from "../store/stores.js";

/** Why clean removes a selected page (URL duplicates never reach the store). */
export const CLEAN_REASONS = ["exact_dup", "near_dup", "contaminated"] as const;
export type CleanReason = (typeof CLEAN_REASONS)[number];

export interface CleanSummary {
  round: number;
  selected: number;
  kept: number;
  removed: Partial<Record<CleanReason, number>>;
  clusters: number;
  seconds: Record<string, number>;
}

interface Sel {
  id: number;
  score: number;
}

/** Text as compared for exact duplicates: lower-cased, whitespace collapsed. */
export function exactKey(text: string): string {
  return crypto.createHash("sha1").update(text.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex");
}

/** Keeper order inside a group: the highest score, then the earliest document. */
const better = (a: Sel, b: Sel) => (a.score !== b.score ? a.score > b.score : a.id < b.id);

/** The round's selection over every part, in id order (ids are the run's, whichever part holds them). */
function selected(stores: RunStores, round: number): Sel[] {
  const sel = stores.parts.flatMap((p) => p.db.prepare("SELECT s.doc_id AS id, sc.score FROM selections s JOIN scores sc ON sc.doc_id = s.doc_id AND sc.round = s.round WHERE s.round = ? ORDER BY s.doc_id").all(round) as Sel[]);
  return sel.sort((a, b) => a.id - b.id);
}

function* texts(stores: RunStores, ids: number[]): Generator<{ id: number; text: string }> {
  const st = new Map(stores.parts.map((p) => [p, p.db.prepare("SELECT id, text FROM documents WHERE id = ?")]));
  for (const id of ids) yield st.get(stores.partOf(id))!.get(id) as { id: number; text: string };
}

/** Step 1: exact duplicates by normalised text hash; each points at its group's keeper. */
function exactDedup(stores: RunStores, sel: Sel[], mark: (id: number, status: CleanReason, dupOf: number) => void): Set<number> {
  const keyOf = new Map<number, string>();
  const keeper = new Map<string, Sel>();
  const byId = new Map(sel.map((s) => [s.id, s]));
  for (const d of texts(stores, sel.map((s) => s.id))) {
    const k = exactKey(d.text);
    keyOf.set(d.id, k);
    const cur = byId.get(d.id)!;
    const prev = keeper.get(k);
    if (!prev || better(cur, prev)) keeper.set(k, cur);
  }
  const removed = new Set<number>();
  for (const [id, k] of keyOf) {
    const keep = keeper.get(k)!;
    if (keep.id !== id) {
      removed.add(id);
      mark(id, "exact_dup", keep.id);
    }
  }
  return removed;
}

/** Steps 2–4: MinHash signatures → LSH buckets (in SQLite) → clusters (union-find over bucket mates). */
async function nearDupClusters(stores: RunStores, round: number, ids: number[], cfg: MinHashConfig, step: Step): Promise<Map<number, number[]>> {
  const hasher = await MinHasher.create(cfg);
  const store = stores.coord;
  store.clearRound(round, ["minhash_bands"]);
  const ins = store.db.prepare("INSERT OR IGNORE INTO minhash_bands (round, band, key, doc_id) VALUES (?, ?, ?, ?)");
  const batch: Array<[number, number[]]> = [];
  const flush = () => {
    store.db.transaction(() => {
      for (const [id, keys] of batch) keys.forEach((k, band) => ins.run(round, band, k, id));
    })();
    batch.length = 0;
  };
  let done = 0;
  const started = Date.now();
  for (const d of texts(stores, ids)) {
    batch.push([d.id, hasher.bandKeys(hasher.signature(d.text))]);
    if (batch.length >= 1000) {
      flush();
      done += 1000;
      await step("minhash", done, ids.length, started);
    }
  }
  flush();
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.get(r) !== undefined && parent.get(r) !== r) r = parent.get(r)!;
    let y = x;
    while (parent.get(y) !== undefined && parent.get(y) !== r) {
      const next = parent.get(y)!;
      parent.set(y, r);
      y = next;
    }
    return r;
  };
  const union = (a: number, b: number) => {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(Math.max(ra, rb), Math.min(ra, rb));
  };
  const groups = store.db.prepare("SELECT group_concat(doc_id) AS ids FROM minhash_bands WHERE round = ? GROUP BY band, key HAVING count(*) > 1").iterate(round) as Iterable<{ ids: string }>;
  for (const g of groups) {
    const members = g.ids.split(",").map(Number);
    for (let i = 1; i < members.length; i++) union(members[0]!, members[i]!);
  }
  const clusters = new Map<number, number[]>();
  for (const id of parent.keys()) {
    const r = find(id);
    const c = clusters.get(r) ?? [];
    c.push(id);
    clusters.set(r, c);
  }
  return clusters;
}

/**
 * Cleans a round's selection: exact dedup, MinHash near-dedup (keep the best-scoring page of a
 * cluster) and benchmark decontamination. Results are attributes in the `clean` table (status,
 * which page a duplicate duplicates, its cluster, the benchmark match); documents are not touched.
 */
/** Reports progress within a step and yields to the event loop, so an interrupt is seen; throws once interrupted. */
type Step = (name: string, done: number, total: number, started: number) => Promise<void>;

export interface CleanOptions {
  /** "minhash 12000/200000  1500 pages/s  ETA 2m06s", for a progress line. */
  onProgress?: (text: string) => void;
  /** Stops between batches of pages (SIGINT): the round is then not marked cleaned. */
  signal?: AbortSignal;
}

export async function cleanRound(stores: RunStores, round: number, index: BenchmarkIndex, cfg: MinHashConfig, logger: Logger, opts: CleanOptions = {}): Promise<CleanSummary> {
  const step: Step = async (name, done, total, started) => {
    const s = (Date.now() - started) / 1000;
    opts.onProgress?.(countLine(name, done, total, s));
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (opts.signal?.aborted) throw new Error(`clean of round ${round} interrupted`);
  };
  const seconds: Record<string, number> = {};
  let t = Date.now();
  const lap = (k: string) => {
    seconds[k] = (Date.now() - t) / 1000;
    t = Date.now();
  };
  const store = stores.coord;
  // not cleaned until the last mark is written: export refuses a round whose cleaning was cut short
  store.setCleaned(round, null);
  store.clearRound(round, ["clean"]);
  const sel = selected(stores, round);
  const counts = new Counters<CleanReason>();
  const ins = store.db.prepare("INSERT OR REPLACE INTO clean (round, doc_id, status, dup_of, cluster, benchmark, item, field, span) VALUES (@round, @id, @status, @dupOf, @cluster, @benchmark, @item, @field, @span)");
  const mark = (id: number, status: string, extra: { dupOf?: number; cluster?: number; benchmark?: string; item?: string; field?: string; span?: string } = {}) =>
    ins.run({ round, id, status, dupOf: extra.dupOf ?? null, cluster: extra.cluster ?? null, benchmark: extra.benchmark ?? null, item: extra.item ?? null, field: extra.field ?? null, span: extra.span ?? null });
  const exact = store.db.transaction(() => exactDedup(stores, sel, (id, status, dupOf) => (counts.add(status), mark(id, status, { dupOf }))))();
  lap("exact");
  const remaining = sel.filter((s) => !exact.has(s.id));
  const clusters = await nearDupClusters(stores, round, remaining.map((s) => s.id), cfg, step);
  lap("minhash");
  const score = new Map(sel.map((s) => [s.id, s]));
  const near = new Set<number>();
  const inCluster = new Set<number>();
  store.db.transaction(() => {
    for (const [root, members] of clusters) {
      const keep = members.map((m) => score.get(m)!).reduce((a, b) => (better(a, b) ? a : b));
      for (const m of members) {
        inCluster.add(m);
        if (m === keep.id) mark(m, "kept", { cluster: root });
        else {
          near.add(m);
          counts.add("near_dup");
          mark(m, "near_dup", { dupOf: keep.id, cluster: root });
        }
      }
    }
  })();
  lap("clusters");
  const candidates = remaining.filter((s) => !near.has(s.id)).map((s) => s.id);
  // in transactions of 1,000 pages, between which progress is shown and an interrupt is seen
  const scanned = (ds: Array<{ id: number; text: string }>) =>
    store.db.transaction(() => {
      for (const d of ds) {
        const m = index.scan(d.text);
        if (m) {
          counts.add("contaminated");
          mark(d.id, "contaminated", { benchmark: m.benchmark, item: m.item, field: m.field, span: m.text });
        } else if (!inCluster.has(d.id)) mark(d.id, "kept");
      }
    })();
  let batch: Array<{ id: number; text: string }> = [];
  let done = 0;
  const decontStarted = Date.now();
  for (const d of texts(stores, candidates)) {
    batch.push(d);
    if (batch.length >= 1000) {
      scanned(batch);
      done += batch.length;
      batch = [];
      await step("decont", done, candidates.length, decontStarted);
    }
  }
  scanned(batch);
  lap("decont");
  const removed = counts.total();
  const summary: CleanSummary = { round, selected: sel.length, kept: sel.length - removed, removed: counts.toJSON(), clusters: [...clusters.values()].filter((c) => c.length > 1).length, seconds };
  store.setCleaned(round, JSON.stringify(summary));
  logger.log("info", "cleaned", { ...summary });
  return summary;
}
