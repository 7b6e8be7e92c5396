/**
 * How well the raw-HTML math signals (src/extract/signals.ts) tell math pages from the rest, and
 * how fast: the share of pages with each signal and with any, on PlanetMath pages (math: LaTeXML
 * HTML), on the non-math HTML corpora of ../shared/data/negatives, on the bundled crawl (its
 * planetmath.org pages as math, the rest as not), and on the real Common Crawl and other crawls'
 * pages in test/fixtures/warc (unlabelled: the flagged ones are listed for a look). Speed: MB/s of
 * HTML scanned, against a plain pass over the same bytes (Buffer.indexOf of a byte absent).
 *
 *   node dist/scripts/eval-signals.js [--shared ../shared/data]
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { SIGNALS, mathSignals, signalNames } from "../src/extract/signals.js";
import { nullLogger } from "../src/core/log.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function jsonlHtml(file: string): Array<{ url: string; html: Buffer }> {
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString("utf8");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; url: string | null; html?: string })
    .filter((r) => typeof r.html === "string")
    .map((r) => ({ url: r.url ?? r.id, html: Buffer.from(r.html!, "utf8") }));
}

async function warcHtml(file: string): Promise<Array<{ url: string; html: Buffer }>> {
  const out = [];
  for await (const p of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) out.push({ url: p.url, html: p.body });
  return out;
}

function row(name: string, pages: Array<{ url: string; html: Buffer }>): string {
  const masks = pages.map((p) => mathSignals(p.html));
  const share = (f: (m: number) => boolean) => `${((100 * masks.filter(f).length) / Math.max(1, masks.length)).toFixed(1)}%`;
  return `| ${name} | ${pages.length} | ${share((m) => m !== 0)} | ${SIGNALS.map((_, i) => share((m) => (m & (1 << i)) !== 0)).join(" | ")} |`;
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf("--shared");
  const shared = i >= 0 ? argv[i + 1]! : path.join(ROOT, "..", "shared", "data");
  const math = jsonlHtml(path.join(shared, "seeds", "planetmath_shared.jsonl.gz"));
  const negatives = fs
    .readdirSync(path.join(shared, "negatives"))
    .filter((f) => f.endsWith(".jsonl.gz"))
    .flatMap((f) => jsonlHtml(path.join(shared, "negatives", f)));
  const crawl = await warcHtml(path.join(ROOT, "data", "crawl-sample.warc.gz"));
  const isMath = (u: string) => /^https?:\/\/planetmath\.org\//.test(u);
  const fixtures = path.join(ROOT, "test", "fixtures", "warc");
  const real = [];
  for (const f of fs.readdirSync(fixtures).filter((x) => /\.warc\.gz$/.test(x) && !x.includes(".wet."))) real.push(...(await warcHtml(path.join(fixtures, f))));
  console.log(`| pages | n | any signal | ${SIGNALS.join(" | ")} |\n|---|---:|---:|${SIGNALS.map(() => "---:").join("|")}|`);
  console.log(row("PlanetMath (math)", math));
  console.log(row("negatives (not math)", negatives));
  console.log(row("bundled crawl: planetmath.org", crawl.filter((p) => isMath(p.url))));
  console.log(row("bundled crawl: the rest", crawl.filter((p) => !isMath(p.url))));
  console.log(row("fixture crawls (unlabelled)", real));
  for (const [name, pages] of [["negatives", negatives], ["bundled crawl, not planetmath.org", crawl.filter((p) => !isMath(p.url))], ["fixture crawls", real]] as const) {
    const flagged = pages.map((p) => ({ url: p.url, s: signalNames(mathSignals(p.html)) })).filter((x) => x.s.length > 0);
    console.log(`\n${name}: ${flagged.length} flagged${flagged.length ? ":" : ""}`);
    for (const f of flagged.slice(0, 25)) console.log(`  ${f.url}  ${f.s.join(",")}`);
  }
  // speed, over every page above
  const all = [...math, ...negatives, ...crawl, ...real].map((p) => p.html);
  const bytes = all.reduce((a, b) => a + b.length, 0);
  const time = (f: (b: Buffer) => unknown) => {
    let best = Infinity;
    for (let r = 0; r < 5; r++) {
      const t = performance.now();
      for (const b of all) f(b);
      best = Math.min(best, performance.now() - t);
    }
    return best / 1000;
  };
  const scan = time((b) => mathSignals(b));
  const floor = time((b) => b.indexOf(0xff));
  console.log(`\nspeed: ${all.length} pages, ${(bytes / 1e6).toFixed(0)} MB: signals ${(bytes / 1e6 / scan).toFixed(0)} MB/s (${((1e6 * scan) / all.length).toFixed(0)} µs a page); a plain pass over the bytes ${(bytes / 1e6 / floor).toFixed(0)} MB/s`);
}

await main(process.argv.slice(2));
