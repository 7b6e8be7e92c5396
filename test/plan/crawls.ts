import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import { ROOT, readAll } from "../helpers.js";

/** Multi-file crawls made of the bundled sample, and what a run decided, for comparing runs split differently. */

const SAMPLE = path.join(ROOT, "data", "crawl-sample.warc.gz");

/**
 * A multi-file crawl made of the bundled sample's response records (one gzip member each, as
 * Common Crawl writes them): record i goes to file i mod `files`; every 40th record is also
 * copied into the file after the next, so the same URL is stored by two tasks.
 */
export async function splitCrawl(dir: string, files: number): Promise<string[]> {
  const bytes = fs.readFileSync(SAMPLE);
  const { pages } = await readAll(SAMPLE);
  const parts: Buffer[][] = Array.from({ length: files }, () => []);
  pages.forEach((p, i) => {
    expect(p.offsetKind).toBe("member");
    const member = bytes.subarray(p.offset, p.offset + p.length);
    parts[i % files]!.push(member);
    if (i % 40 === 0) parts[(i + 2) % files]!.push(member);
  });
  fs.mkdirSync(dir, { recursive: true });
  return parts.map((ms, f) => {
    const file = path.join(dir, `part-${f}.warc.gz`);
    fs.writeFileSync(file, Buffer.concat(ms));
    return file;
  });
}

export const RUN_FLAGS = ["--deterministic", "--token-budget", "40000", "--auto-accept", "0.5", "--fpr", "0.15", "--max-rounds", "3", "--json"];

/** Everything a run decided, keyed by document id, read from its stores (the run's work.sqlite and every task's). */
export function snapshot(runDir: string): Record<string, unknown> {
  const files = [path.join(runDir, "work.sqlite")];
  const tasks = path.join(runDir, "tasks");
  if (fs.existsSync(tasks)) for (const t of fs.readdirSync(tasks).sort()) if (fs.existsSync(path.join(tasks, t, "work.sqlite"))) files.push(path.join(tasks, t, "work.sqlite"));
  const rows = (sql: string) =>
    files
      .flatMap((f) => {
        const db = new Database(f, { readonly: true });
        try {
          return db.prepare(sql).raw().all() as unknown[][];
        } finally {
          db.close();
        }
      })
      .map((r) => JSON.stringify(r))
      .sort();
  const shards = path.join(runDir, "export");
  return {
    documents: rows("SELECT id, doc_key, url_norm, content_hash, lang, title FROM documents"),
    features: rows("SELECT doc_id, hex(hashes) FROM features"),
    scores: rows("SELECT round, doc_id, score FROM scores"),
    selections: rows("SELECT round, doc_id FROM selections"),
    promoted: rows("SELECT doc_id, round, prefix FROM promoted"),
    clean: rows("SELECT round, doc_id, status, dup_of, cluster, benchmark, item FROM clean"),
    domains: rows("SELECT round, host, pages, selected, math_related FROM domain_stats"),
    prefixes: rows("SELECT round, prefix, pages, selected FROM prefix_stats"),
    rounds: rows("SELECT round, step, cutoff, cutoff_rule, selected, selected_tokens FROM rounds"),
    shards: fs
      .readdirSync(shards)
      .filter((f) => f.endsWith(".sqlite"))
      .sort()
      .map((f) => [f, crypto.createHash("sha256").update(fs.readFileSync(path.join(shards, f))).digest("hex")]),
  };
}

/** Each part of two snapshots is the same; a difference is shown as the rows only one side has. */
export function expectSame(got: Record<string, unknown>, want: Record<string, unknown>): void {
  for (const k of Object.keys(want)) {
    const g = (got[k] as unknown[]).map((x) => JSON.stringify(x));
    const w = (want[k] as unknown[]).map((x) => JSON.stringify(x));
    const gs = new Set(g);
    const ws = new Set(w);
    expect({ key: k, missing: w.filter((x) => !gs.has(x)).slice(0, 5), extra: g.filter((x) => !ws.has(x)).slice(0, 5) }).toEqual({ key: k, missing: [], extra: [] });
    expect(g, k).toEqual(w);
  }
}

export function sumDrops(runDir: string, reason: string): number {
  const files = [path.join(runDir, "work.sqlite"), ...fs.readdirSync(path.join(runDir, "tasks")).map((t) => path.join(runDir, "tasks", t, "work.sqlite"))].filter((f) => fs.existsSync(f));
  return files.reduce((n, f) => {
    const db = new Database(f, { readonly: true });
    try {
      return n + ((db.prepare("SELECT coalesce(sum(count), 0) FROM drops WHERE reason = ?").pluck().get(reason) as number) ?? 0);
    } finally {
      db.close();
    }
  }, 0);
}

