/**
 * Fuzzes the candidate pool's first pass (src/extract/firstpass.ts) with fast-check, on
 * mutations of real pages: the bundled crawl's HTML pages and the bundled PlanetMath seeds
 * (MathML, TeX annotations). Each case takes a real page and, at random, flips bits, cuts it,
 * inserts random bytes or a run of one hostile opener (`<script`, `<!--`, `<math alttext='`,
 * `<img src=latex`, `&#x`, `<a` … repeated up to 200,000 times, never closed), duplicates a slice,
 * or gives it another charset in its Content-Type. Properties:
 *   - `firstPass` returns a text and a mask of known signals, never throws;
 *   - every case ends within --bound-ms (a quadratic scan on a hostile run takes minutes);
 *   - an untouched page gives the same text as before, and its formulas survive: a PlanetMath
 *     page with MathML has `$` in its cheap text.
 * Failing cases are printed with fast-check's seed and path, to be kept as fixtures.
 *
 *   node dist/scripts/fuzz-firstpass.js [--runs 3000] [--seed N] [--bound-ms 1000]
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { nullLogger } from "../src/core/log.js";
import { readJsonlDocs } from "../src/extract/inputs.js";
import { firstPass } from "../src/extract/firstpass.js";
import { SIGNALS } from "../src/extract/signals.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";
import { flag } from "./split-crawl.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

type Mutation =
  | { kind: "none" }
  | { kind: "flip"; at: number; bits: number }
  | { kind: "cut"; at: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "hostile"; at: number; unit: string; times: number }
  | { kind: "duplicate"; from: number; to: number; times: number }
  | { kind: "charset"; label: string };

const HOSTILE = ["<script", "<!--", "<a", "<math alttext='", "<math><annotation encoding='application/x-tex'>", "<img src=latex", "<img alt='", "&#x", "&amp", "<", "<style", "<svg", "<m:math", "\\frac{", "\\", "\\alpha", "<script type='math/tex'>"];
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: "none" } as const),
  fc.record({ kind: fc.constant("flip" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bits: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 256 }) }),
  fc.record({ kind: fc.constant("hostile" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), unit: fc.constantFrom(...HOSTILE), times: fc.integer({ min: 1, max: 200_000 }) }),
  fc.record({ kind: fc.constant("duplicate" as const), from: fc.double({ min: 0, max: 1, noNaN: true }), to: fc.double({ min: 0, max: 1, noNaN: true }), times: fc.integer({ min: 2, max: 50 }) }),
  fc.record({ kind: fc.constant("charset" as const), label: fc.constantFrom("gbk", "shift_jis", "windows-1252", "utf-16", "utf-16le", "iso-2022-jp", "x-user-defined", "bogus", "") }),
);

function mutate(body: Buffer, m: Mutation): { body: Buffer; contentType: string | undefined } {
  const at = (x: number) => Math.min(body.length, Math.floor(x * body.length));
  switch (m.kind) {
    case "none":
      return { body, contentType: "text/html" };
    case "flip": {
      const b = Buffer.from(body);
      for (let i = 0; i < m.bits && b.length; i++) b[(at(m.at) + i * 7919) % b.length]! ^= 1 << (i % 8);
      return { body: b, contentType: "text/html" };
    }
    case "cut":
      return { body: body.subarray(0, at(m.at)), contentType: "text/html" };
    case "insert":
      return { body: Buffer.concat([body.subarray(0, at(m.at)), Buffer.from(m.bytes), body.subarray(at(m.at))]), contentType: "text/html" };
    case "hostile":
      return { body: Buffer.concat([body.subarray(0, at(m.at)), Buffer.from(m.unit.repeat(m.times)), body.subarray(at(m.at))]), contentType: "text/html" };
    case "duplicate": {
      const [a, b] = [at(Math.min(m.from, m.to)), at(Math.max(m.from, m.to))];
      const slice = body.subarray(a, Math.min(b, a + 65536));
      return { body: Buffer.concat([body.subarray(0, b), ...Array.from({ length: m.times }, () => slice), body.subarray(b)]), contentType: "text/html" };
    }
    case "charset":
      return { body, contentType: m.label ? `text/html; charset=${m.label}` : "text/html;charset=" };
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runs = flag(argv, "runs", 3000);
  const seed = flag(argv, "seed", Date.now() % 2 ** 31);
  const bound = flag(argv, "bound-ms", 1000);
  const pages: Array<{ body: Buffer; math: boolean }> = [];
  for await (const p of readPages(localSource(path.join(ROOT, "data", "crawl-sample.warc.gz")), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) pages.push({ body: p.body, math: false });
  let n = 0;
  for await (const d of readJsonlDocs(path.join(ROOT, "seeds", "seeds-planetmath.jsonl.gz"), "planetmath", () => {})) {
    // formulas are counted on the pages that have some (MathML): a few PlanetMath entries are prose alone
    if (typeof d.body === "string" && d.body) pages.push({ body: Buffer.from(d.body), math: /<(?:m:|mml:)?math[\s>]/i.test(d.body) });
    if (++n >= 300) break;
  }
  const before = pages.map((p) => firstPass(p.body, "text/html").text);
  const full = (1 << SIGNALS.length) - 1;
  const counts = { cases: 0, slowest: 0, slowestKind: "", bytes: 0, formulasKept: 0, mathUntouched: 0 };
  const byKind = new Map<string, number>();
  await fc.assert(
    fc.property(fc.integer({ min: 0, max: pages.length - 1 }), mutation, (i, m) => {
      const { body, contentType } = mutate(pages[i]!.body, m);
      const t = performance.now();
      const f = firstPass(body, contentType);
      const ms = performance.now() - t;
      counts.cases++;
      counts.bytes += body.length;
      byKind.set(m.kind, (byKind.get(m.kind) ?? 0) + 1);
      if (ms > counts.slowest) [counts.slowest, counts.slowestKind] = [ms, `${m.kind} of ${(body.length / 1e6).toFixed(1)} MB`];
      if (typeof f.text !== "string" || (f.signals & ~full) !== 0) throw new Error(`bad result for ${m.kind}`);
      if (ms > bound) throw new Error(`${m.kind} (${body.length} bytes) took ${ms.toFixed(0)} ms, over ${bound} ms`);
      if (m.kind === "none") {
        if (f.text !== before[i]) throw new Error("an untouched page gave another text");
        if (pages[i]!.math) {
          counts.mathUntouched++;
          if (f.text.includes("$")) counts.formulasKept++;
        }
      }
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
  console.log(
    `fuzz-firstpass: seed ${seed}: ${counts.cases} cases on ${pages.length} real pages (${(counts.bytes / 2 ** 20).toFixed(0)} MB in all), no crash, none over ${bound} ms (slowest ${counts.slowest.toFixed(0)} ms: ${counts.slowestKind}); untouched PlanetMath pages with MathML whose formulas were kept: ${counts.formulasKept}/${counts.mathUntouched}`,
  );
  console.log([...byKind.entries()].sort().map(([k, v]) => `${k} ${v}`).join(", "));
}

await main();
