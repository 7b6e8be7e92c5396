import fs from "node:fs";
import path from "node:path";
import { InputError } from "../core/errors.js";
import { type Tokens, ngramKey, normTokens, wordCount } from "./ngrams.js";

/**
 * Benchmark decontamination as DeepSeekMath did it: a page sharing any 10-gram (of normalised
 * tokens) with a benchmark question or answer is contaminated; a text of 3 to 9 tokens must
 * appear as a whole token sequence. Texts under 3 tokens are ignored: answers such as "18",
 * "D" or "x = 2" occur on countless unrelated pages, so matching them removes noise, not leaks.
 */
export const NGRAM = 10;
export const MIN_EXACT = 3;
/**
 * A benchmark 10-gram needs this many word tokens (not numbers) to be indexed, and a short text
 * at least half words, two of them content words: number runs ("1 2 3", Pascal's triangle) and
 * function-word phrases ("we have that 1") are everywhere.
 */
export const MIN_WORDS_NGRAM = 4;

export interface BenchmarkItem {
  benchmark: string;
  item: string;
  field: string;
}

export interface FieldSpec {
  question: string[];
  answer: string[];
}

/** Common field names of math benchmarks (GSM8K, MATH, CMATH, AGIEval, MMLU, miniF2F, MGSM). */
export const DEFAULT_FIELDS: FieldSpec = {
  question: ["question", "problem", "input", "informal_statement", "messages", "prompt", "query"],
  answer: ["answer", "solution", "golden", "informal_proof", "output", "response"],
};

export interface Match {
  benchmark: string;
  item: string;
  field: string;
  kind: "10-gram" | "exact";
  /** Character span in the page and the matched text. */
  start: number;
  end: number;
  text: string;
}

function textOf(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    // chat messages: the user's turns
    const parts = v.map((m) => (typeof m === "object" && m !== null && typeof (m as { content?: unknown }).content === "string" ? (m as { content: string }).content : typeof m === "string" ? m : "")).filter(Boolean);
    return parts.length ? parts.join("\n") : undefined;
  }
  return undefined;
}

/** Reads a benchmark file: JSONL (fields by name) or TSV (question <TAB> answer, MGSM). */
export function readBenchmark(file: string, fields: FieldSpec = DEFAULT_FIELDS): Array<{ id: string; field: string; text: string }> {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch {
    throw new InputError(`benchmark file not found: ${file}`);
  }
  const out: Array<{ id: string; field: string; text: string }> = [];
  const lines = raw.split("\n");
  if (file.endsWith(".tsv")) {
    lines.forEach((line, i) => {
      const [q, a] = line.split("\t");
      if (q?.trim()) out.push({ id: String(i + 1), field: "question", text: q });
      if (a?.trim()) out.push({ id: String(i + 1), field: "answer", text: a });
    });
    return out;
  }
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // Python's json writes NaN/Infinity (MMLU's options do); JSON has no such values
      try {
        rec = JSON.parse(line.replace(/([[,:]\s*)-?(NaN|Infinity)(?=\s*[,\]}])/g, "$1null")) as Record<string, unknown>;
      } catch {
        throw new InputError(`${file}:${i + 1}: not JSON`);
      }
    }
    const id = typeof rec.id === "string" || typeof rec.id === "number" ? String(rec.id) : typeof rec.unique_id === "string" ? rec.unique_id : String(i + 1);
    for (const f of [...fields.question, ...fields.answer]) {
      const t = textOf(rec[f]);
      if (t && t.trim()) out.push({ id, field: f, text: t });
    }
  });
  if (out.length === 0) throw new InputError(`${file}: no benchmark texts (fields looked for: ${[...fields.question, ...fields.answer].join(", ")})`);
  return out;
}

export class BenchmarkIndex {
  private readonly grams = new Map<number, number>();
  /** Exact short sequences by length. */
  private readonly short = new Map<number, Map<number, number>>();
  readonly items: BenchmarkItem[] = [];
  readonly counts = { items: 0, texts: 0, ngrams: 0, short: 0, ignored: 0 };

  add(benchmark: string, texts: Array<{ id: string; field: string; text: string }>): void {
    const seen = new Set<string>();
    for (const t of texts) {
      const itemNo = this.items.push({ benchmark, item: t.id, field: t.field }) - 1;
      if (!seen.has(t.id)) this.counts.items++;
      seen.add(t.id);
      this.counts.texts++;
      const tok = normTokens(t.text);
      if (tok.length >= NGRAM) {
        for (let i = 0; i + NGRAM <= tok.length; i++) {
          if (wordCount(tok, i, NGRAM) < MIN_WORDS_NGRAM) continue;
          const k = ngramKey(tok.hashes, i, NGRAM);
          if (!this.grams.has(k)) this.grams.set(k, itemNo);
        }
        this.counts.ngrams = this.grams.size;
      } else if (tok.length >= MIN_EXACT && wordCount(tok, 0, tok.length) >= tok.length / 2 && wordCount(tok, 0, tok.length, true) >= 2) {
        let m = this.short.get(tok.length);
        if (!m) this.short.set(tok.length, (m = new Map()));
        m.set(ngramKey(tok.hashes, 0, tok.length), itemNo);
        this.counts.short++;
      } else {
        this.counts.ignored++;
      }
    }
  }

  /** The first benchmark match in a text, or undefined. */
  scan(text: string, tok: Tokens = normTokens(text)): Match | undefined {
    const h = tok.hashes;
    const lengths = [...this.short.keys()];
    for (let i = 0; i < tok.length; i++) {
      if (i + NGRAM <= tok.length) {
        const hit = this.grams.get(ngramKey(h, i, NGRAM));
        if (hit !== undefined) return this.match(hit, "10-gram", text, tok, i, NGRAM);
      }
      for (const L of lengths) {
        if (i + L > tok.length) continue;
        const hit = this.short.get(L)!.get(ngramKey(h, i, L));
        if (hit !== undefined) return this.match(hit, "exact", text, tok, i, L);
      }
    }
    return undefined;
  }

  private match(itemNo: number, kind: Match["kind"], text: string, tok: Tokens, i: number, n: number): Match {
    const it = this.items[itemNo]!;
    const start = tok.starts[i]!;
    const end = tok.ends[i + n - 1]!;
    return { ...it, kind, start, end, text: text.slice(start, end) };
  }
}

/** The bundled benchmarks: every .jsonl / .tsv under the folder; the benchmark name is the file's path. */
export function loadBenchmarkDir(dir: string, index: BenchmarkIndex, fields: FieldSpec = DEFAULT_FIELDS): string[] {
  const names: string[] = [];
  const walk = (d: string) => {
    for (const f of fs.readdirSync(d).sort()) {
      const full = path.join(d, f);
      if (fs.statSync(full).isDirectory()) walk(full);
      else if (/\.(jsonl|tsv)$/.test(f)) {
        const name = path.relative(dir, full).replace(/\.(jsonl|tsv)$/, "");
        index.add(name, readBenchmark(full, fields));
        names.push(name);
      }
    }
  };
  walk(dir);
  return names;
}
