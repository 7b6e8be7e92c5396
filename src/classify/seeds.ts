import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors.js";
import { filesUnder } from "../core/paths.js";
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
export const splitKey = (d: Pick<TextDoc, "id" | "split">): string => d.split ?? d.id;

/**
 * A training document: its text, or the text already made a fastText line (features.ts
 * `fastTextLine`) where the text was read (the gate's sample, on the extraction workers: the
 * tokenising then costs the main thread nothing).
 */
export type TrainDoc = TextDoc | (Omit<TextDoc, "text"> & { line: string });

/** Seeds are curated: only empty-ish documents are filtered out. */
export const SEED_FILTERS = { minChars: 20, minTextRatio: 0, minWordShare: 0 };

const SEED_KINDS = "JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or Parquet";

/**
 * The seed files: `spec` itself when it is one, else the JSON-lines (isJsonl) and Parquet files
 * in its folder tree (Hugging Face keeps a dataset's Parquet under data/), depth first in name
 * order; hidden folders (.git, .cache) are skipped. Nothing to read is an input error.
 */
export function seedFiles(spec: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(spec);
  } catch {
    throw new InputError(`seeds not found: ${spec}`);
  }
  if (!st.isDirectory()) {
    if (isDocFile(spec)) return [spec];
    throw new InputError(`seeds must be a ${SEED_KINDS} file or a folder of them: ${spec}`);
  }
  const files = filesUnder(spec, isDocFile).map((r) => path.join(spec, r));
  if (files.length === 0) throw new InputError(`seed folder ${spec} holds no ${SEED_KINDS} files`);
  return files;
}

/**
 * A seed file's name where the seeds lie (its path in the seed folder, or its file name): what
 * names an id-less record (NAME:LINE) and keys the extracted seeds, wherever the folder is.
 */
export function seedName(spec: string, file: string): string {
  return file === spec ? path.basename(file) : path.relative(spec, file);
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
    // a record without `id` is named FILE:LINE by the file's path in the seed folder, not from
    // the working folder: the held-out split goes by id and must not move with the cwd
    for (const f of files) yield* readDocFile(f, seedName(dir, f), (i) => warn(`${f}:${i.line}: ${i.message}`));
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
  if (docs.length === 0) throw new InputError(`seeds ${dir}: no seed has text (${stats.seen} read, dropped: ${stats.dropped.describe() || "none"})`);
  return { docs, files, stats };
}

/** A stable fingerprint of a document set: sha256 over sorted (id, sha1(text)). */
export function docSetHash(docs: TextDoc[]): string {
  const h = crypto.createHash("sha256");
  const rows = docs.map((d) => `${d.id}\t${crypto.createHash("sha1").update(d.text).digest("hex")}`).sort();
  for (const r of rows) h.update(r + "\n");
  return h.digest("hex");
}
