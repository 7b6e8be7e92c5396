import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { openDecompressed } from "../core/compressed.js";
import { InputError } from "../core/errors.js";
import { openParquet } from "../core/parquet.js";

/** A document to extract, from a WARC page, an HTML file or a JSONL record. */
export interface RawDoc {
  id: string;
  url: string;
  /** Raw bytes (charset unknown) or HTML already decoded. */
  body: Buffer | string;
  contentType?: string | undefined;
  /** Text given as is (JSONL `text` without `html`): not extracted, only filtered. */
  text?: string;
  /** Other JSONL fields kept through (title, source, license, …). */
  meta?: Record<string, unknown>;
  /**
   * Who the document is wherever its file lies, for the held-out split (`id` may hold the
   * path as written): a record's own id, NAME:LINE for one without, an HTML file's name, a
   * WARC page's normalised URL.
   */
  key?: string;
}

/**
 * JSON lines: `.jsonl` or `.ndjson`, plain, gzipped or zstd-compressed, and `.json.gz` /
 * `.json.zst` (Dolma's documents are JSON lines named `.json.gz`).
 */
export const isJsonl = (spec: string): boolean => /\.(jsonl|ndjson)(\.(gz|zst))?$|\.json\.(gz|zst)$/i.test(spec);
export const isParquet = (spec: string): boolean => /\.parquet$/i.test(spec);
/** Files of documents (not pages): JSON lines (isJsonl) and Parquet (Hugging Face datasets: OpenWebMath, …). */
export const isDocFile = (spec: string): boolean => isJsonl(spec) || isParquet(spec);
export const isHtmlFile = (spec: string): boolean => /\.x?html?$/i.test(spec);

export interface JsonlIssue {
  file: string;
  line: number;
  message: string;
}

/**
 * Streams a JSON-lines file of documents (isJsonl: compressed too): `id`, then `html`
 * (extracted) or `text` (kept as is), optional `url`, `title`, `source`, `license`. A bad line
 * is reported and skipped.
 */
export async function* readJsonlDocs(file: string, display: string, onIssue: (i: JsonlIssue) => void): AsyncGenerator<RawDoc> {
  if (!fs.existsSync(file)) throw new InputError(`no such file: ${display}`);
  const stream = openDecompressed(file);
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (let line of rl) {
      n++;
      if (n === 1) {
        line = line.replace(/^\uFEFF/, "");
        if (/^\s*\[/.test(line)) throw new InputError(`${display}: holds a JSON array; documents are read as JSON lines, one object per line`);
      }
      if (!line.trim()) continue;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (err) {
        onIssue({ file: display, line: n, message: `not JSON (${(err as Error).message.slice(0, 80)})` });
        continue;
      }
      if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
        onIssue({ file: display, line: n, message: "not a JSON object" });
        continue;
      }
      const d = docOf(rec as Record<string, unknown>, file, display, n, onIssue);
      if (d) yield d;
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${display}: cannot read line ${n + 1}: ${(err as Error).message}`);
  }
}

/** A record (JSONL line, Parquet row) as a document: `id`, `html` or `text`, `url`, the rest as meta. */
function docOf(r: Record<string, unknown>, file: string, display: string, n: number, onIssue: (i: JsonlIssue) => void): RawDoc | undefined {
  const html = typeof r.html === "string" ? r.html : undefined;
  const text = typeof r.text === "string" ? r.text : undefined;
  if (html === undefined && text === undefined) {
    onIssue({ file: display, line: n, message: "no `html` or `text` field" });
    return undefined;
  }
  const { html: _h, text: _t, ...meta } = r;
  const own = typeof r.id === "string" || typeof r.id === "number" ? String(r.id) : undefined;
  return {
    id: own ?? `${display}:${n}`,
    key: own ?? `${path.basename(file)}:${n}`,
    url: typeof r.url === "string" ? r.url : "",
    body: html ?? "",
    ...(html === undefined ? { text } : {}),
    meta,
  };
}

/** The columns of a Parquet document file that become a document (others, e.g. large metadata, are not read). */
const DOC_COLUMNS = ["id", "url", "html", "text", "title", "source", "license"];

/**
 * Streams a Parquet file of documents (the same fields as JSONL; `line` in issues is the row
 * number from 1), one row group at a time, so a large shard is not held whole.
 */
export async function* readParquetDocs(file: string, display: string, onIssue: (i: JsonlIssue) => void): AsyncGenerator<RawDoc> {
  if (!fs.existsSync(file)) throw new InputError(`no such file: ${display}`);
  const pq = await openParquet(file, display);
  const columns = DOC_COLUMNS.filter((c) => pq.columns.includes(c));
  if (!columns.includes("html") && !columns.includes("text")) throw new InputError(`${display}: no \`html\` or \`text\` column (columns: ${pq.columns.join(", ")})`);
  let n = 0;
  for await (const row of pq.rows(columns)) {
    const d = docOf(row, file, display, ++n, onIssue);
    if (d) yield d;
  }
}

/** Documents of a JSON-lines (isJsonl) or Parquet file. */
export function readDocFile(file: string, display: string, onIssue: (i: JsonlIssue) => void): AsyncGenerator<RawDoc> {
  return isParquet(file) ? readParquetDocs(file, display, onIssue) : readJsonlDocs(file, display, onIssue);
}

/** An HTML file: bytes, charset left to the extractor. */
export function readHtmlFile(file: string, display: string): RawDoc {
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    throw new InputError(`no such file: ${display}`);
  }
  return { id: display, url: `file://${path.resolve(file)}`, body, key: path.basename(file) };
}
