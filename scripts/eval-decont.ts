/**
 * Decontamination recall on planted benchmark items: every question of every bundled benchmark
 * is pasted into a paragraph of ordinary prose, every answer upper-cased with its whitespace
 * changed, and the index must find each. Items that are mostly formula pieces or numbers (and
 * answers under 3 tokens) are not indexed by design (see src/decont), so they are the misses.
 *
 *   node dist/scripts/eval-decont.js
 */
import fs from "node:fs";
import path from "node:path";
import { packageRoot } from "../src/core/paths.js";
import { BenchmarkIndex, loadBenchmarkDir, readBenchmark } from "../src/decont/index.js";

const dir = path.join(packageRoot(), "data", "benchmarks");
const index = new BenchmarkIndex();
await loadBenchmarkDir(dir, index);
const host = "The city council met on Tuesday to discuss the new budget for parks and libraries. ";
const files: string[] = [];
(function walk(d: string) {
  for (const f of fs.readdirSync(d).sort()) {
    const p = path.join(d, f);
    if (fs.statSync(p).isDirectory()) walk(p);
    else if (/\.(jsonl|tsv)$/.test(f)) files.push(p);
  }
})(dir);
const Q = new Set(["question", "problem", "input", "informal_statement", "messages"]);
for (const f of files) {
  let q = 0;
  let qHit = 0;
  let a = 0;
  let aHit = 0;
  for (const t of await readBenchmark(f)) {
    if (Q.has(t.field)) {
      q++;
      if (index.scan(host + t.text + " " + host)) qHit++;
    } else {
      a++;
      if (index.scan(host + t.text.toUpperCase().replace(/\s+/g, "   \n ") + " " + host)) aHit++;
    }
  }
  const pct = (x: number, n: number) => (n ? `${x}/${n} (${((100 * x) / n).toFixed(1)}%)` : "-");
  console.log(`${path.relative(dir, f).padEnd(26)} questions ${pct(qHit, q).padEnd(18)} answers ${pct(aHit, a)}`);
}
