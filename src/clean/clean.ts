import type { Logger } from "../core/log.js";
import { countLine } from "../core/progress.js";
import { Counters } from "../core/stats.js";
import type { BenchmarkIndex } from "../decont/index.js";
import type { MinHashConfig } from "../dedup/minhash.js";
import { mergeSorted } from "../core/merge.js";
import { cleanKey, cleanMapPart, cleanMetaKey, keyset } from "./map.js";
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

/** Keeper order inside a group: the highest score, then the earliest document. */
const better = (a: Sel, b: Sel) => (a.score !== b.score ? a.score > b.score : a.id < b.id);

/** Calls `group` with every run of rows that `same` says belong together, in the merged order of `rows`. */
function groups<R>(rows: Iterable<R>, same: (a: R, b: R) => boolean, group: (members: R[]) => void): void {
  let cur: R[] = [];
  for (const r of rows) {
    if (cur.length > 0 && !same(cur[0]!, r)) {
      group(cur);
      cur = [];
    }
    cur.push(r);
  }
  if (cur.length > 0) group(cur);
}

type KeyRow = Sel & { exact: string };
type BandRow = { band: number; key: number; id: number };

/** Step 1: exact duplicates, from the parts' keys merged in (key, id) order; each points at its group's keeper. */
function exactDedup(stores: RunStores, round: number, mark: (id: number, status: CleanReason, dupOf: number) => void): Set<number> {
  const streams = stores.parts.map((p) => keyset<KeyRow>(p.db.prepare("SELECT exact, doc_id AS id, score FROM clean_keys WHERE round = ? AND (exact, doc_id) > (?, ?) ORDER BY exact, doc_id LIMIT ?"), round, ["", 0], (r) => [r.exact, r.id]));
  const removed = new Set<number>();
  const found: Array<[number, number]> = [];
  groups(
    mergeSorted(streams, (a, b) => a.exact < b.exact || (a.exact === b.exact && a.id < b.id)),
    (a, b) => a.exact === b.exact,
    (members) => {
      if (members.length < 2) return;
      const keep = members.reduce((a, b) => (better(a, b) ? a : b));
      for (const m of members) if (m.id !== keep.id) found.push([m.id, keep.id]);
    },
  );
  for (const [id, of] of found) {
    removed.add(id);
    mark(id, "exact_dup", of);
  }
  return removed;
}

/**
 * Steps 2–4: the parts' LSH band keys merged in (band, key, id) order → buckets → clusters
 * (union-find over bucket mates; a cluster's root is its lowest id, whatever the order of unions).
 * Exact duplicates already removed take no part.
 */
function nearDupClusters(stores: RunStores, round: number, removed: Set<number>): Map<number, number[]> {
  const streams = stores.parts.map((p) => keyset<BandRow>(p.db.prepare("SELECT band, key, doc_id AS id FROM minhash_bands WHERE round = ? AND (band, key, doc_id) > (?, ?, ?) ORDER BY band, key, doc_id LIMIT ?"), round, [-1, -1, -1], (r) => [r.band, r.key, r.id]));
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
  const less = (a: BandRow, b: BandRow) => a.band < b.band || (a.band === b.band && (a.key < b.key || (a.key === b.key && a.id < b.id)));
  const live = function* () {
    for (const r of mergeSorted(streams, less)) if (!removed.has(r.id)) yield r;
  };
  groups(
    live(),
    (a, b) => a.band === b.band && a.key === b.key,
    (members) => {
      for (let i = 1; i < members.length; i++) union(members[0]!.id, members[i]!.id);
    },
  );
  const clusters = new Map<number, number[]>();
  for (const id of parent.keys()) {
    const r = find(id);
    const c = clusters.get(r) ?? [];
    c.push(id);
    clusters.set(r, c);
  }
  return clusters;
}

/** Reports progress within a step and yields to the event loop, so an interrupt is seen; throws once interrupted. */
type Step = (name: string, done: number, total: number, started: number) => Promise<void>;

export interface CleanOptions {
  /** "map 12000/200000  1500 pages/s  ETA 2m06s", for a progress line. */
  onProgress?: (text: string) => void;
  /** Stops between batches of pages (SIGINT): the round is then not marked cleaned. */
  signal?: AbortSignal;
  /**
   * Runs the map of the parts `todo` (task indexes) as tasks, which compute it with `key`'s
   * settings (a run split into tasks); without it, the map runs here, part by part.
   */
  mapByTasks?: (key: string, todo: number[]) => Promise<void>;
}

/**
 * Cleans a round's selection: exact dedup, MinHash near-dedup (keep the best-scoring page of a
 * cluster) and benchmark decontamination. A map over the parts (map.ts: each selected page's keys
 * and benchmark match, beside it) and a reduce here that merges the parts' sorted keys. Results
 * are attributes in the `clean` table (status, which page a duplicate duplicates, its cluster,
 * the benchmark match); documents are not touched.
 */
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
  const key = cleanKey(cfg, index);
  if (opts.mapByTasks) {
    // tasks whose part was mapped with these settings before are not run again
    const todo = stores.parts.flatMap((p, i) => (p.meta(cleanMetaKey(round)) === key ? [] : [i]));
    if (todo.length > 0) await opts.mapByTasks(key, todo);
    const stale = stores.parts.findIndex((p) => p.meta(cleanMetaKey(round)) !== key);
    if (stale >= 0) throw new Error(`clean of round ${round}: task ${stale}'s map is missing or was computed with other settings after its tasks ended`);
  } else {
    const total = stores.sum("SELECT count(*) FROM selections WHERE round = ?", round);
    const started = Date.now();
    let before = 0;
    for (const p of stores.parts) before += await cleanMapPart(p, round, index, cfg, key, (done) => step("map", before + done, total, started));
  }
  lap("map");
  const counts = new Counters<CleanReason>();
  const ins = store.db.prepare("INSERT OR REPLACE INTO clean (round, doc_id, status, dup_of, cluster, benchmark, item, field, span) VALUES (@round, @id, @status, @dupOf, @cluster, @benchmark, @item, @field, @span)");
  const mark = (id: number, status: string, extra: { dupOf?: number; cluster?: number; benchmark?: string | null; item?: string | null; field?: string | null; span?: string | null } = {}) =>
    ins.run({ round, id, status, dupOf: extra.dupOf ?? null, cluster: extra.cluster ?? null, benchmark: extra.benchmark ?? null, item: extra.item ?? null, field: extra.field ?? null, span: extra.span ?? null });
  const exact = store.db.transaction(() => exactDedup(stores, round, (id, status, dupOf) => (counts.add(status), mark(id, status, { dupOf }))))();
  lap("exact");
  const clusters = nearDupClusters(stores, round, exact);
  lap("minhash");
  const scoreOf = new Map(stores.parts.map((p) => [p, p.db.prepare("SELECT score FROM clean_keys WHERE round = ? AND doc_id = ?").pluck()]));
  const sel = (id: number): Sel => ({ id, score: scoreOf.get(stores.partOf(id))!.get(round, id) as number });
  const near = new Set<number>();
  const inCluster = new Set<number>();
  store.db.transaction(() => {
    for (const [root, members] of clusters) {
      const keep = members.map(sel).reduce((a, b) => (better(a, b) ? a : b));
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
  // the pages left: contaminated where the map found a benchmark match, else kept
  type MatchRow = { id: number; benchmark: string | null; item: string | null; field: string | null; span: string | null };
  let selected = 0;
  const marked = store.db.transaction((rows: MatchRow[]) => {
    for (const r of rows) {
      if (exact.has(r.id) || near.has(r.id)) continue;
      if (r.benchmark !== null) {
        counts.add("contaminated");
        mark(r.id, "contaminated", r);
      } else if (!inCluster.has(r.id)) mark(r.id, "kept");
    }
  });
  for (const p of stores.parts) {
    let batch: MatchRow[] = [];
    for (const r of keyset<MatchRow>(p.db.prepare("SELECT doc_id AS id, benchmark, item, field, span FROM clean_keys WHERE round = ? AND doc_id > ? ORDER BY doc_id LIMIT ?"), round, [0], (r) => [r.id])) {
      selected++;
      batch.push(r);
      if (batch.length >= 2000) {
        marked(batch);
        batch = [];
      }
    }
    marked(batch);
  }
  lap("decont");
  const removed = counts.total();
  const summary: CleanSummary = { round, selected, kept: selected - removed, removed: counts.toJSON(), clusters: [...clusters.values()].filter((c) => c.length > 1).length, seconds };
  store.setCleaned(round, JSON.stringify(summary));
  logger.log("info", "cleaned", { ...summary });
  return summary;
}
