import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors.js";
import type { ExtractOptions } from "../extract/extract.js";
import { type RawDoc, isDocFile, readDocFile } from "../extract/inputs.js";
import type { LangId } from "../extract/lang.js";
import { ExtractStats, extractDocs } from "../extract/pipeline.js";
import type { Extractor } from "../extract/pool.js";

/** A document with the text the classifier sees. */
export interface TextDoc {
  id: string;
  url: string;
  text: string;
  /**
   * What the held-out split and the training file's order go by, when not `id`: a run's stored
   * pages give their normalised URL, as their `id` (doc_key) holds the WARC file's path.
   */
  split?: string;
}

/** The key a document is split and ordered by (classify/split, classify/train). */
export const splitKey = (d: TextDoc): string => d.split ?? d.id;

/** Seeds are curated: only empty-ish documents are filtered out. */
export const SEED_FILTERS = { minChars: 20, minTextRatio: 0, minWordShare: 0 };

/** The JSON-lines (isJsonl) and Parquet files of a seed folder, sorted; a missing or empty folder is an input error. */
export function seedFiles(dir: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new InputError(`seed folder not found: ${dir}`);
  }
  if (!st.isDirectory()) throw new InputError(`seeds must be a folder of JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or .parquet files: ${dir}`);
  const files = fs.readdirSync(dir).filter(isDocFile).sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new InputError(`seed folder ${dir} holds no JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or .parquet files`);
  return files;
}

/**
 * Reads a seed corpus: every line (Parquet: row) a document with `id` and `text` or `html` (`html` goes through
 * the same extractor as crawled pages). Throws if no seed has text.
 */
export async function readSeeds(
  dir: string,
  extractor: Extractor,
  lang: LangId,
  opts: ExtractOptions,
  warn: (m: string) => void,
  /** After every seed kept: seeds extracted (kept or dropped) and kept so far (for a progress line). */
  onProgress?: (done: number, kept: number) => void,
): Promise<{ docs: TextDoc[]; files: string[]; stats: ExtractStats }> {
  const files = seedFiles(dir);
  async function* raw(): AsyncGenerator<RawDoc> {
    // a record without `id` is named FILE:LINE by the file's name in the folder, not its path
    // from the working folder: the held-out split goes by id and must not move with the cwd
    for (const f of files) yield* readDocFile(f, path.basename(f), (i) => warn(`${path.join(dir, i.file)}:${i.line}: ${i.message}`));
  }
  const stats = new ExtractStats();
  const docs: TextDoc[] = [];
  const seen = new Set<string>();
  for await (const d of extractDocs(raw(), extractor, lang, { ...opts, filters: SEED_FILTERS, langs: [], window: extractor.window }, stats)) {
    if (seen.has(d.id)) {
      warn(`seed id ${JSON.stringify(d.id)} appears twice; the later copy is ignored`);
      continue;
    }
    seen.add(d.id);
    docs.push({ id: d.id, url: d.url, text: d.text });
    onProgress?.(stats.kept + stats.dropped.total(), docs.length);
  }
  if (docs.length === 0) throw new InputError(`seed folder ${dir}: no seed has text (${stats.seen} read, dropped: ${stats.dropped.describe() || "none"})`);
  return { docs, files, stats };
}

/** A stable fingerprint of a document set: sha256 over sorted (id, sha1(text)). */
export function docSetHash(docs: TextDoc[]): string {
  const h = crypto.createHash("sha256");
  const rows = docs.map((d) => `${d.id}\t${crypto.createHash("sha1").update(d.text).digest("hex")}`).sort();
  for (const r of rows) h.update(r + "\n");
  return h.digest("hex");
}
