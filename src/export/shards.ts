import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { InputError, UsageError } from "../core/errors.js";
import { sha256File } from "../core/hash.js";
import { fsyncPath } from "../core/atomic.js";
export { writeAtomic } from "../core/atomic.js";
import type { TokenCounter } from "../core/tokens.js";
import type { RunStores } from "../store/stores.js";

/**
 * Token-balanced SQLite shards of a cleaned selection. Documents are shuffled by a seeded,
 * documented permutation: sorted by sha256("<seed>:<id>"), so every shard is a fair sample
 * and the order depends neither on crawl order nor on where the WARC files lay (see exportIds). Each shard is written under a temporary name,
 * fsynced and renamed only when complete; the manifest is written last, the same way. A rerun
 * redoes exactly the shards that are missing or wrong.
 */
export const SHARD_SCHEMA_VERSION = 1;
export const MARKER = ".mathcorpus-export";

export const SHARD_DDL = `CREATE TABLE documents (
  id TEXT NOT NULL, text TEXT NOT NULL, url TEXT NOT NULL, domain TEXT NOT NULL, lang TEXT NOT NULL,
  score REAL NOT NULL, round INTEGER NOT NULL, tokens INTEGER NOT NULL, sha256 TEXT NOT NULL)`;
export const SHARD_COLUMNS = ["id", "text", "url", "domain", "lang", "score", "round", "tokens", "sha256"] as const;

export interface ExportOptions {
  shardTokens: number;
  /** Documents per shard instead of tokens (0: use tokens). */
  shardDocs: number;
  seed: number;
  /** SQLite page size of the shards (measured for sequential reads, see ARCHITECTURE.md). */
  pageSize: number;
  /** The run's token counter (pages not yet counted are counted with it). */
  countTokens: TokenCounter;
}

export interface ShardInfo {
  file: string;
  docs: number;
  tokens: number;
  bytes: number;
  sha256: string;
}

interface Row {
  doc_id: number;
  id: string;
  record_id: string | null;
  url: string;
  domain: string;
  lang: string;
  score: number;
  round: number;
  tokens: number | null;
}

/** The kept documents of a cleaned round, in the seeded permutation, with token counts. */
function keptDocs(stores: RunStores, round: number, seed: number, countTokens: TokenCounter): Row[] {
  // a cleaning that was interrupted leaves marks for some pages only: exporting those would lose the rest
  if (!stores.coord.isCleaned(round)) throw new InputError(`round ${round} has not been cleaned (or its cleaning was interrupted): run \`mathcorpus clean\` first`);
  const kept = stores.coord.db.prepare("SELECT doc_id FROM clean WHERE round = ? AND status = 'kept' ORDER BY doc_id").pluck().all(round) as number[];
  const doc = new Map(
    stores.parts.map((p) => [
      p,
      p.db.prepare(
        `SELECT d.id AS doc_id, d.doc_key AS id, d.record_id, d.url, d.domain, d.lang, s.score,
                (SELECT min(x.round) FROM selections x WHERE x.doc_id = d.id) AS round, d.tokens
         FROM documents d JOIN scores s ON s.doc_id = d.id AND s.round = ? WHERE d.id = ?`,
      ),
    ]),
  );
  const rows = kept.map((id) => doc.get(stores.partOf(id))!.get(round, id) as Row);
  exportIds(rows);
  const key = (r: Row) => crypto.createHash("sha256").update(`${seed}:${r.id}`).digest("hex");
  const keyed = rows.map((r) => [key(r), r] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const p of stores.parts) {
    const text = p.db.prepare("SELECT text FROM documents WHERE id = ?");
    const setTokens = p.db.prepare("UPDATE documents SET tokens = ? WHERE id = ?");
    p.db.transaction(() => {
      for (const [, r] of keyed) {
        if (r.tokens === null && stores.partOf(r.doc_id) === p) {
          r.tokens = countTokens((text.get(r.doc_id) as { text: string }).text);
          setTokens.run(r.tokens, r.doc_id);
        }
      }
    })();
  }
  return keyed.map(([, r]) => r);
}

/**
 * The exported `id` of each document: its WARC-Record-ID, which is location-free and unique
 * (the store's doc_key names the WARC file by its local path). A
 * record without one, a store from before record ids were kept, and ids that two documents
 * share (a crawler's bug) fall back to doc_key.
 */
export function exportIds(rows: Array<{ id: string; record_id: string | null }>): void {
  const count = new Map<string, number>();
  for (const r of rows) if (r.record_id) count.set(r.record_id, (count.get(r.record_id) ?? 0) + 1);
  for (const r of rows) if (r.record_id && count.get(r.record_id) === 1) r.id = r.record_id;
}

/** Splits the permuted documents into shards of about shardTokens tokens (or shardDocs documents). */
export function plan(rows: Row[], o: ExportOptions): Row[][] {
  const shards: Row[][] = [];
  let cur: Row[] = [];
  let tokens = 0;
  for (const r of rows) {
    cur.push(r);
    tokens += r.tokens ?? 0;
    if ((o.shardDocs > 0 && cur.length >= o.shardDocs) || (o.shardDocs === 0 && tokens >= o.shardTokens)) {
      shards.push(cur);
      cur = [];
      tokens = 0;
    }
  }
  if (cur.length) shards.push(cur);
  return shards;
}

function writeShard(stores: RunStores, file: string, rows: Row[], pageSize: number): void {
  const tmp = `${file}.tmp`;
  fs.rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    db.pragma(`page_size = ${pageSize}`);
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.exec(SHARD_DDL);
    const ins = db.prepare("INSERT INTO documents (id, text, url, domain, lang, score, round, tokens, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const text = new Map(stores.parts.map((p) => [p, p.db.prepare("SELECT text FROM documents WHERE id = ?")]));
    db.transaction(() => {
      for (const r of rows) {
        const t = (text.get(stores.partOf(r.doc_id))!.get(r.doc_id) as { text: string }).text;
        ins.run(r.id, t, r.url, r.domain, r.lang, r.score, r.round, r.tokens ?? 0, crypto.createHash("sha256").update(t).digest("hex"));
      }
    })();
    db.exec("CREATE INDEX documents_id ON documents(id)");
    db.exec("CREATE INDEX documents_domain ON documents(domain)");
  } finally {
    db.close();
  }
  fsyncPath(tmp);
  fs.renameSync(tmp, file);
  fsyncPath(path.dirname(file));
}

function shardOk(file: string, rows: Row[]): boolean {
  if (!fs.existsSync(file)) return false;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const ids = db.prepare("SELECT id FROM documents ORDER BY rowid").pluck().all() as string[];
      return ids.length === rows.length && ids.every((id, i) => id === rows[i]!.id);
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

/** Refuses a non-empty --out that is not an unfinished export of this run, unless forced. */
export function prepareOut(out: string, runDir: string, force: boolean): void {
  fs.mkdirSync(out, { recursive: true });
  const entries = fs.readdirSync(out);
  const marker = path.join(out, MARKER);
  const ours = fs.existsSync(marker) && fs.readFileSync(marker, "utf8").trim() === path.resolve(runDir);
  if (entries.length > 0 && !ours && !force) throw new UsageError(`--out ${out} exists and is not empty; give --force to overwrite it`);
  if (force && !ours) for (const e of entries) fs.rmSync(path.join(out, e), { recursive: true, force: true });
  fs.writeFileSync(marker, path.resolve(runDir) + "\n");
}

/** Writes every shard (skipping those already complete), returns their descriptions. */
export function writeShards(stores: RunStores, round: number, out: string, o: ExportOptions, onShard?: (i: number, n: number) => void): { shards: ShardInfo[]; docs: number; tokens: number } {
  const rows = keptDocs(stores, round, o.seed, o.countTokens);
  const parts = plan(rows, o);
  fs.rmSync(path.join(out, "manifest.json"), { force: true });
  for (const f of fs.readdirSync(out)) if (f.endsWith(".tmp")) fs.rmSync(path.join(out, f), { force: true });
  const shards: ShardInfo[] = [];
  parts.forEach((part, i) => {
    const name = `shard-${String(i).padStart(5, "0")}.sqlite`;
    const file = path.join(out, name);
    if (!shardOk(file, part)) writeShard(stores, file, part, o.pageSize);
    shards.push({ file: name, docs: part.length, tokens: part.reduce((a, r) => a + (r.tokens ?? 0), 0), bytes: fs.statSync(file).size, sha256: sha256File(file) });
    onShard?.(i + 1, parts.length);
  });
  // shards left from an earlier, larger plan are not part of this export
  for (const f of fs.readdirSync(out)) if (/^shard-\d{5}\.sqlite$/.test(f) && !shards.some((s) => s.file === f)) fs.rmSync(path.join(out, f));
  return { shards, docs: rows.length, tokens: shards.reduce((a, s) => a + s.tokens, 0) };
}
