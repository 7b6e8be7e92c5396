import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Statement } from "better-sqlite3";
import { writeAtomic } from "../core/atomic.js";
import type { BenchmarkOptions } from "../config/clean.js";
import type { BenchmarkIndex } from "../decont/index.js";
import { type MinHashConfig, MinHasher } from "../dedup/minhash.js";
import type { WorkStore } from "../store/store.js";

/*
 * Clean's map, run over each part of a run (in the coordinator, or as a task over its own store):
 * for every page the round selected, its exact-duplicate key, its MinHash band keys and its first
 * benchmark match, written beside the page (tables clean_keys and minhash_bands). The reduce
 * (clean.ts) merges the parts' sorted keys, so its decisions are the same for any number of tasks.
 */

/** Text as compared for exact duplicates: lower-cased, whitespace collapsed. */
export function exactKey(text: string): string {
  return crypto.createHash("sha1").update(text.toLowerCase().replace(/\s+/g, " ").trim()).digest("hex");
}

/** What a part's map was computed with: the MinHash settings and the benchmarks (their texts' digest). */
export function cleanKey(cfg: MinHashConfig, index: BenchmarkIndex): string {
  return crypto.createHash("sha256").update(JSON.stringify({ map: 1, minhash: cfg, benchmarks: index.digest() })).digest("hex").slice(0, 32);
}

/** The part's meta key holding the cleanKey its map of round `round` was computed with. */
export const cleanMetaKey = (round: number): string => `clean_map:${round}`;

/**
 * What a cleaning task needs (DIR/clean/round-N.json, written by the coordinator): the MinHash
 * settings, the benchmarks as absolute paths, and the key the task's index must reproduce.
 */
export interface CleanSpec {
  round: number;
  key: string;
  minhash: MinHashConfig;
  benchmarks: BenchmarkOptions;
}

export const cleanSpecPath = (runDir: string, round: number): string => path.join(runDir, "clean", `round-${round}.json`);

export function writeCleanSpec(runDir: string, spec: CleanSpec): void {
  fs.mkdirSync(path.dirname(cleanSpecPath(runDir, spec.round)), { recursive: true });
  writeAtomic(cleanSpecPath(runDir, spec.round), JSON.stringify(spec, null, 2) + "\n");
}

export function readCleanSpec(runDir: string, round: number): CleanSpec | undefined {
  try {
    return JSON.parse(fs.readFileSync(cleanSpecPath(runDir, round), "utf8")) as CleanSpec;
  } catch {
    return undefined;
  }
}

/**
 * Rows of `st` (which takes the round, the last row's key columns and a batch size, and orders by
 * those columns) page by page: no statement stays open between pages, so the caller may write to
 * the same database while it reads.
 */
export function* keyset<R>(st: Statement, round: number, first: unknown[], keyOf: (r: R) => unknown[], batch = 2000): Generator<R, void, undefined> {
  let last = first;
  for (;;) {
    const rows = st.all(round, ...last, batch) as R[];
    yield* rows;
    if (rows.length < batch) return;
    last = keyOf(rows[rows.length - 1]!);
  }
}

/** Reports progress within the map and yields to the event loop (so an interrupt is seen); throws once interrupted. */
export type MapStep = (done: number, total: number) => Promise<void>;

/**
 * Clean's map over one part: every page of its round-`round` selection gets its exact key, score,
 * MinHash band keys and first benchmark match. The part's earlier map of the round is replaced,
 * and `key` is recorded (meta clean_map:N) only once every row is written.
 */
export async function cleanMapPart(part: WorkStore, round: number, index: BenchmarkIndex, cfg: MinHashConfig, key: string, step?: MapStep): Promise<number> {
  const hasher = await MinHasher.create(cfg);
  part.db.transaction(() => {
    part.setMeta(cleanMetaKey(round), "");
    part.clearRound(round, ["clean_keys", "minhash_bands"]);
  })();
  const total = part.db.prepare("SELECT count(*) FROM selections WHERE round = ?").pluck().get(round) as number;
  const read = part.db.prepare(
    "SELECT s.doc_id AS id, sc.score, d.text FROM selections s JOIN scores sc ON sc.round = s.round AND sc.doc_id = s.doc_id JOIN documents d ON d.id = s.doc_id WHERE s.round = ? AND s.doc_id > ? ORDER BY s.doc_id LIMIT ?",
  );
  const insKey = part.db.prepare("INSERT INTO clean_keys (round, doc_id, score, exact, benchmark, item, field, span) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  const insBand = part.db.prepare("INSERT OR IGNORE INTO minhash_bands (round, band, key, doc_id) VALUES (?, ?, ?, ?)");
  const write = part.db.transaction((rows: Array<{ id: number; score: number; text: string }>) => {
    for (const d of rows) {
      const m = index.scan(d.text);
      insKey.run(round, d.id, d.score, exactKey(d.text), m?.benchmark ?? null, m?.item ?? null, m?.field ?? null, m?.text ?? null);
      hasher.bandKeys(hasher.signature(d.text)).forEach((k, band) => insBand.run(round, band, k, d.id));
    }
  });
  let done = 0;
  let last = 0;
  for (;;) {
    const rows = read.all(round, last, 1000) as Array<{ id: number; score: number; text: string }>;
    if (rows.length === 0) break;
    write(rows);
    done += rows.length;
    last = rows[rows.length - 1]!.id;
    await step?.(done, total);
  }
  part.setMeta(cleanMetaKey(round), key);
  return done;
}
