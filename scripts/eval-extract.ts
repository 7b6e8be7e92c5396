/**
 * Extraction quality on real pages with known truth (../shared/data):
 *  - formula recovery on PlanetMath (LaTeXML): each `<math alttext>` of 2+ characters must
 *    appear in the extracted text, whitespace removed;
 *  - token F1 against gold article text (scrapinghub, newspaper);
 *  - trafilatura's snippets: share of `gold_with` present and of `gold_without` present.
 *
 *   node dist/scripts/eval-extract.js [--data ../shared/data] [--json]
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { decodeHTML } from "entities";
import { extractHtml } from "../src/extract/extract.js";

interface Rec {
  id: string;
  html?: string;
  gold_text?: string;
  gold_with?: string[];
  gold_without?: string[];
}

function* readJsonl(file: string): Generator<Rec> {
  const buf = fs.readFileSync(file);
  const text = (file.endsWith(".gz") ? zlib.gunzipSync(buf) : buf).toString("utf8");
  for (const line of text.split("\n")) if (line.trim()) yield JSON.parse(line) as Rec;
}

const squash = (s: string) => s.replace(/\s+/g, "");
const norm = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();
const tokens = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function f1(pred: string, gold: string): { p: number; r: number; f: number } {
  const g = new Map<string, number>();
  for (const t of tokens(gold)) g.set(t, (g.get(t) ?? 0) + 1);
  const pt = tokens(pred);
  let common = 0;
  for (const t of pt) {
    const n = g.get(t) ?? 0;
    if (n > 0) {
      common++;
      g.set(t, n - 1);
    }
  }
  const gl = tokens(gold).length;
  const p = pt.length ? common / pt.length : 0;
  const r = gl ? common / gl : 0;
  return { p, r, f: p + r ? (2 * p * r) / (p + r) : 0 };
}

/**
 * Some of newspaper's "gold" files are its authors' notes on a failure ("MISSED LAST
 * PARAGRAPH", "FAILED, MISSING ARTICLE AFTR FIRST PARAGRAPH"), not article text: left out.
 */
function isAnnotatorNote(gold: string): boolean {
  const letters = gold.replace(/[^\p{L}]/gu, "");
  const upper = letters.replace(/[^\p{Lu}]/gu, "").length;
  return tokens(gold).length < 20 && letters.length > 0 && upper / letters.length > 0.8;
}

function formulas(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<math\b[^>]*\balttext="([^"]*)"/g)) {
    const tex = decodeHTML(m[1]!);
    if (tex.trim().length >= 2) out.push(tex);
  }
  return out;
}

function main(argv: string[]): void {
  const di = argv.indexOf("--data");
  const data = di >= 0 ? argv[di + 1]! : path.resolve("..", "shared", "data");
  const results: Record<string, unknown> = {};
  // formula recovery
  let total = 0;
  let found = 0;
  let pages = 0;
  const misses: string[] = [];
  for (const r of readJsonl(path.join(data, "seeds", "planetmath_shared.jsonl.gz"))) {
    if (!r.html) continue;
    pages++;
    const text = squash(extractHtml(r.html).text);
    for (const tex of formulas(r.html)) {
      total++;
      if (text.includes(squash(tex))) found++;
      else if (misses.length < 10) misses.push(`${r.id}: ${tex.slice(0, 80)}`);
    }
  }
  results.planetmath = { pages, formulas: total, recovered: found, share: found / total, misses };
  console.log(`PlanetMath formula recovery: ${found}/${total} = ${((100 * found) / total).toFixed(2)}% on ${pages} pages (target >= 97%)`);
  for (const set of ["scrapinghub", "newspaper"]) {
    let sum = 0;
    let sp = 0;
    let sr = 0;
    let n = 0;
    for (const r of readJsonl(path.join(data, "negatives", `web_html_${set}.jsonl.gz`))) {
      if (!r.html || !r.gold_text || isAnnotatorNote(r.gold_text)) continue;
      const s = f1(extractHtml(r.html).text, r.gold_text);
      sum += s.f;
      sp += s.p;
      sr += s.r;
      n++;
    }
    results[set] = { pages: n, f1: sum / n, precision: sp / n, recall: sr / n };
    console.log(`${set}: token F1 ${(sum / n).toFixed(3)} (P ${(sp / n).toFixed(3)}, R ${(sr / n).toFixed(3)}) on ${n} pages (target >= 0.85)`);
  }
  let withHit = 0;
  let withN = 0;
  let withoutHit = 0;
  let withoutN = 0;
  for (const r of readJsonl(path.join(data, "negatives", "web_html_trafilatura.jsonl.gz"))) {
    if (!r.html) continue;
    const text = norm(extractHtml(r.html).text);
    for (const s of r.gold_with ?? []) {
      withN++;
      if (text.includes(norm(s))) withHit++;
    }
    for (const s of r.gold_without ?? []) {
      withoutN++;
      if (text.includes(norm(s))) withoutHit++;
    }
  }
  results.trafilatura = { with: withHit / withN, without: withoutHit / withoutN, withN, withoutN };
  console.log(`trafilatura: gold_with present ${((100 * withHit) / withN).toFixed(1)}% (target >= 90%), gold_without present ${((100 * withoutHit) / withoutN).toFixed(1)}% (target <= 10%)`);
  if (argv.includes("--json")) console.log(JSON.stringify(results, null, 2));
}

main(process.argv.slice(2));
