import fs from "node:fs";
import path from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { decompressBuffer, withoutCompression } from "../core/compressed.js";
import { InputError } from "../core/errors.js";
import { filesUnder } from "../core/paths.js";
import { openParquet } from "../core/parquet.js";

/**
 * Benchmark files as they are published: JSONL, JSON (an array of items, or an object holding
 * arrays of them or keyed by id), CSV with a header row, TSV (question<TAB>answer, as MGSM
 * ships it), Parquet (Hugging Face datasets); any but Parquet may be compressed (.gz, .zst).
 */
export const BENCHMARK_FILE = /\.(jsonl|json|csv|tsv)(\.(gz|zst))?$|\.parquet$/i;

export interface FieldSpec {
  question: string[];
  answer: string[];
}

/**
 * Common field names of math benchmarks (GSM8K, MATH, CMATH, AGIEval, MMLU, miniF2F, MGSM,
 * SVAMP's Body, AQuA's and MathQA's Rationale, OlympiadBench's final_answer, …), matched
 * without regard to case. Answer options are not read: "none of the above" is no leak.
 */
export const DEFAULT_FIELDS: FieldSpec = {
  question: ["question", "problem", "input", "informal_statement", "messages", "prompt", "query", "body", "passage"],
  answer: ["answer", "solution", "golden", "informal_proof", "output", "response", "rationale", "final_answer", "target"],
};

export interface BenchmarkText {
  id: string;
  field: string;
  text: string;
}

/** A benchmark's name: its file name without the format's extensions. */
export function benchmarkName(file: string): string {
  return path.basename(file).replace(BENCHMARK_FILE, "");
}

/** A field's text: a string, a number, or a list of strings or of chat messages (their contents, joined). */
function textOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) {
    const parts = v
      .map((m) => (typeof m === "string" ? m : typeof m === "object" && m !== null && typeof (m as { content?: unknown }).content === "string" ? (m as { content: string }).content : ""))
      .filter(Boolean);
    return parts.length ? parts.join("\n") : undefined;
  }
  return undefined;
}

/** Fields that name a benchmark item (the first present is used). */
const ID_FIELDS = ["id", "unique_id", "idx", "ID", "Id", "problem_id", "question_id"];

function idOf(rec: Record<string, unknown>, fallback: string): string {
  for (const k of ID_FIELDS) {
    const v = rec[k];
    if (typeof v === "string" || typeof v === "number" || typeof v === "bigint") return String(v);
  }
  return fallback;
}

/** The question and answer texts of one record, its fields matched without regard to case. */
function textsOf(rec: Record<string, unknown>, fallbackId: string, fields: FieldSpec, out: BenchmarkText[]): void {
  const byLower = new Map<string, string>();
  for (const k of Object.keys(rec)) if (!byLower.has(k.toLowerCase())) byLower.set(k.toLowerCase(), k);
  const id = idOf(rec, fallbackId);
  const done = new Set<string>();
  for (const f of [...fields.question, ...fields.answer]) {
    const key = byLower.get(f.toLowerCase());
    if (key === undefined || done.has(key)) continue;
    done.add(key);
    const t = textOf(rec[key]);
    if (t && t.trim()) out.push({ id, field: f, text: t });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A JSON document's items: an array; an object's arrays of items; an object of items keyed by id; or one item. */
function jsonItems(doc: unknown): Array<[string, Record<string, unknown>]> {
  const numbered = (a: unknown[], prefix = "") => a.filter(isRecord).map((r, i) => [`${prefix}${i + 1}`, r] as [string, Record<string, unknown>]);
  if (Array.isArray(doc)) return numbered(doc);
  if (!isRecord(doc)) return [];
  const arrays = Object.entries(doc).filter(([, v]) => Array.isArray(v) && v.some(isRecord));
  if (arrays.length > 0) return arrays.flatMap(([k, v]) => numbered(v as unknown[], arrays.length > 1 ? `${k}:` : ""));
  const values = Object.entries(doc);
  if (values.length > 0 && values.every(([, v]) => isRecord(v))) return values as Array<[string, Record<string, unknown>]>;
  return [["1", doc]];
}

function readText(file: string): string {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read (${(e as Error).message})`);
  }
  try {
    raw = decompressBuffer(raw, file);
  } catch (e) {
    throw new InputError(`${file}: ${(e as Error).message}`);
  }
  return raw.toString("utf8").replace(/^\uFEFF/, "");
}

/** JSON that Python's json may write: NaN and Infinity (MMLU's options have them) read as null. */
function parseJson(s: string, where: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    try {
      return JSON.parse(s.replace(/([[,:]\s*)-?(NaN|Infinity)(?=\s*[,\]}])/g, "$1null"));
    } catch (e) {
      throw new InputError(`${where}: not JSON (${(e as Error).message})`);
    }
  }
}

/** Reads a benchmark file's question and answer texts (formats: BENCHMARK_FILE). */
export async function readBenchmark(file: string, fields: FieldSpec = DEFAULT_FIELDS): Promise<BenchmarkText[]> {
  const out: BenchmarkText[] = [];
  if (!fs.existsSync(file)) throw new InputError(`benchmark file not found: ${file}`);
  const format = withoutCompression(file.toLowerCase()).split(".").pop();
  let columns: string[] | undefined;
  if (format === "tsv") {
    // MGSM: question <TAB> answer, no header
    readText(file)
      .split("\n")
      .forEach((line, i) => {
        const [q, a] = line.replace(/\r$/, "").split("\t");
        if (q?.trim()) out.push({ id: String(i + 1), field: "question", text: q });
        if (a?.trim()) out.push({ id: String(i + 1), field: "answer", text: a });
      });
    if (out.length === 0) throw new InputError(`${file}: no benchmark texts (an empty TSV)`);
    return out;
  } else if (format === "jsonl") {
    readText(file)
      .split("\n")
      .forEach((line, i) => {
        if (!line.trim()) return;
        const rec = parseJson(line, `${file}:${i + 1}`);
        if (isRecord(rec)) textsOf(rec, String(i + 1), fields, out);
      });
  } else if (format === "json") {
    for (const [id, rec] of jsonItems(parseJson(readText(file), file))) textsOf(rec, id, fields, out);
  } else if (format === "csv") {
    const text = readText(file);
    let rows: Array<Record<string, string>>;
    try {
      rows = parseCsv(text, { columns: true, skip_empty_lines: true, relax_column_count: true, bom: true }) as Array<Record<string, string>>;
    } catch (e) {
      throw new InputError(`${file}: not CSV (${(e as Error).message})`);
    }
    columns = rows[0] ? Object.keys(rows[0]) : [];
    rows.forEach((r, i) => textsOf(r, String(i + 1), fields, out));
  } else if (format === "parquet") {
    const pq = await openParquet(file, file);
    columns = pq.columns;
    // only the columns that can hold texts or ids are read
    const wanted = new Set([...fields.question, ...fields.answer, ...ID_FIELDS].map((f) => f.toLowerCase()));
    const read = pq.columns.filter((c) => wanted.has(c.toLowerCase()));
    let n = 0;
    if (read.length > 0) for await (const r of pq.rows(read)) textsOf(r, String(++n), fields, out);
  } else {
    throw new InputError(`${file}: not a benchmark file (JSONL, JSON, CSV, TSV or Parquet; .gz or .zst for all but Parquet)`);
  }
  if (out.length === 0) {
    const seen = columns ? `; its columns: ${columns.join(", ") || "none (no rows)"}` : "";
    throw new InputError(`${file}: no benchmark texts (fields looked for, in any case: ${[...fields.question, ...fields.answer].join(", ")}${seen}); name yours with --question-field / --answer-field`);
  }
  return out;
}

/** Every benchmark file under a folder (sorted, recursively; hidden folders left out), with its name: its path without extensions. */
export function benchmarkFiles(dir: string): Array<{ name: string; file: string }> {
  return filesUnder(dir, (f) => BENCHMARK_FILE.test(f)).map((r) => ({ name: path.join(path.dirname(r), benchmarkName(r)), file: path.join(dir, r) }));
}
