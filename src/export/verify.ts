import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { sha256File } from "../core/hash.js";
import { SHARD_COLUMNS, SHARD_SCHEMA_VERSION, type ShardInfo } from "./shards.js";

export interface Manifest {
  schema_version: number;
  tokenizer: string;
  created: string;
  documents: number;
  tokens: number;
  shards: ShardInfo[];
  [key: string]: unknown;
}

export function readManifest(dir: string): Manifest {
  const file = path.join(dir, "manifest.json");
  return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
}

/** Checks a shard set against its manifest; returns the problems found (empty: all good). */
export function verifyShards(dir: string): string[] {
  const problems: string[] = [];
  let m: Manifest;
  try {
    m = readManifest(dir);
  } catch (err) {
    return [`${path.join(dir, "manifest.json")}: missing or unreadable (${(err as Error).message}); the export did not finish`];
  }
  if (m.schema_version !== SHARD_SCHEMA_VERSION) problems.push(`manifest schema_version ${m.schema_version}, expected ${SHARD_SCHEMA_VERSION}`);
  let docs = 0;
  let tokens = 0;
  for (const s of m.shards) {
    const file = path.join(dir, s.file);
    if (!fs.existsSync(file)) {
      problems.push(`${s.file}: missing`);
      continue;
    }
    const size = fs.statSync(file).size;
    if (size !== s.bytes) problems.push(`${s.file}: ${size} bytes, manifest says ${s.bytes}`);
    const sha = sha256File(file);
    if (sha !== s.sha256) problems.push(`${s.file}: sha256 ${sha.slice(0, 16)}…, manifest says ${s.sha256.slice(0, 16)}…`);
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      try {
        const cols = (db.prepare("PRAGMA table_info(documents)").all() as Array<{ name: string }>).map((c) => c.name);
        if (cols.join(",") !== SHARD_COLUMNS.join(",")) problems.push(`${s.file}: columns ${cols.join(",") || "(no documents table)"}, expected ${SHARD_COLUMNS.join(",")}`);
        const c = db.prepare("SELECT count(*) AS n, coalesce(sum(tokens), 0) AS t FROM documents").get() as { n: number; t: number };
        if (c.n !== s.docs) problems.push(`${s.file}: ${c.n} documents, manifest says ${s.docs}`);
        if (c.t !== s.tokens) problems.push(`${s.file}: ${c.t} tokens, manifest says ${s.tokens}`);
        docs += c.n;
        tokens += c.t;
      } finally {
        db.close();
      }
    } catch (err) {
      problems.push(`${s.file}: not a readable SQLite shard (${(err as Error).message})`);
    }
  }
  if (problems.length === 0 && (docs !== m.documents || tokens !== m.tokens)) problems.push(`totals ${docs} documents / ${tokens} tokens, manifest says ${m.documents} / ${m.tokens}`);
  return problems;
}
