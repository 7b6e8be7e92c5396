/**
 * Cleaning benchmark and quality:
 *  1. decontamination throughput (docs/s and MB/s on one core) on the real pages of ../shared/data;
 *  2. near-duplicate quality: each of N real texts gets a planted near duplicate (two sentences
 *     replaced, a boilerplate line added); recall = share of pairs clustered together, false
 *     merges = share of distinct real texts merged with another;
 *  3. scale: a work store of --docs documents (default 200,000) made by cycling the real texts,
 *     each copy with its own two-sentence edit (so every text has a family of near duplicates),
 *     all selected; cleanRound's time and peak RSS.
 *
 *   node dist/scripts/bench-clean.js [--data ../shared/data] [--docs 200000]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { cleanRound } from "../src/clean/clean.js";
import { nullLogger } from "../src/core/log.js";
import { packageRoot } from "../src/core/paths.js";
import { BenchmarkIndex, loadBenchmarkDir } from "../src/decont/index.js";
import { DEFAULT_MINHASH, MinHasher, jaccard, shingles } from "../src/dedup/minhash.js";
import { extractHtml } from "../src/extract/extract.js";
import { WorkStore } from "../src/store/store.js";
import { RunStores } from "../src/store/stores.js";

function readTexts(data: string): string[] {
  const files = ["seeds/planetmath_shared.jsonl.gz", "seeds/stackmathqa_shared.jsonl", "negatives/web_html_scrapinghub.jsonl.gz", "negatives/web_html_newspaper.jsonl.gz", "negatives/web_html_trafilatura.jsonl.gz", "negatives/cc_text_dolma.jsonl"];
  const out: string[] = [];
  for (const f of files) {
    const buf = fs.readFileSync(path.join(data, f));
    for (const line of (f.endsWith(".gz") ? zlib.gunzipSync(buf) : buf).toString().split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { html?: string; text?: string };
      const t = r.html ? extractHtml(r.html).text : (r.text ?? "");
      if (t.length > 300) out.push(t);
    }
  }
  return out;
}

function perturb(text: string, k: number): string {
  const s = text.split(/(?<=[.?!。])\s*/);
  for (let j = 0; j < 2 && s.length > 4; j++) s[(k * 7 + j * 3) % s.length] = `This sentence ${k}-${j} was changed.`;
  return s.join(" ") + "\nShare this page. Copyright 2024.";
}

async function main(argv: string[]): Promise<void> {
  const arg = (n: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : undefined);
  const data = arg("--data") ?? path.resolve("..", "shared", "data");
  const nDocs = Number(arg("--docs") ?? 200_000);
  const texts = readTexts(data);
  const mb = texts.reduce((a, t) => a + Buffer.byteLength(t), 0) / 1e6;
  console.log(`${texts.length} real texts (${mb.toFixed(1)} MB); node ${process.version}; ${os.availableParallelism()} cores`);

  const index = new BenchmarkIndex();
  let t = performance.now();
  await loadBenchmarkDir(path.join(packageRoot(), "data", "benchmarks"), index);
  console.log(`benchmark index: ${index.counts.items} items, ${index.counts.ngrams} 10-grams, ${index.counts.short} short texts in ${((performance.now() - t) / 1000).toFixed(2)} s`);
  t = performance.now();
  let hits = 0;
  for (const x of texts) if (index.scan(x)) hits++;
  const s1 = (performance.now() - t) / 1000;
  console.log(`decontamination: ${(texts.length / s1).toFixed(0)} docs/s, ${(mb / s1).toFixed(1)} MB/s on one core; ${hits} of ${texts.length} clean real pages flagged (${((100 * hits) / texts.length).toFixed(2)}%)`);

  // near-duplicate quality, in memory
  const hasher = await MinHasher.create(DEFAULT_MINHASH);
  const originals = texts.filter((x) => x.length > 1000);
  const bands = new Map<string, number[]>();
  const add = (id: number, text: string) => hasher.bandKeys(hasher.signature(text)).forEach((k, b) => bands.set(`${b}:${k}`, [...(bands.get(`${b}:${k}`) ?? []), id]));
  originals.forEach((x, i) => add(i, x));
  originals.forEach((x, i) => add(originals.length + i, perturb(x, i)));
  const mates = new Map<number, Set<number>>();
  for (const ids of bands.values()) for (const a of ids) for (const b of ids) if (a !== b) (mates.get(a) ?? mates.set(a, new Set()).get(a)!).add(b);
  let found = 0;
  let falseMerge = 0;
  let jsum = 0;
  originals.forEach((x, i) => {
    if (mates.get(i)?.has(originals.length + i)) found++;
    if ([...(mates.get(i) ?? [])].some((m) => m < originals.length)) falseMerge++;
    jsum += jaccard(shingles(x, 5), shingles(perturb(x, i), 5));
  });
  console.log(`near duplicates: recall ${((100 * found) / originals.length).toFixed(1)}% of ${originals.length} planted pairs (mean exact Jaccard ${(jsum / originals.length).toFixed(3)}); false merges ${((100 * falseMerge) / originals.length).toFixed(2)}% of distinct real pages`);

  // scale
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-clean-"));
  const store = new WorkStore(path.join(dir, "work.sqlite"));
  t = performance.now();
  store.beginFile();
  for (let i = 0; i < nDocs; i++) {
    const text = perturb(texts[i % texts.length]!.slice(0, 4000), i);
    store.addDoc({ docKey: `d${i}`, url: `https://b.example/${i}`, urlNorm: `https://b.example/${i}`, host: "b.example", domain: "b.example", path: `/${i}`, warcFile: "w", warcOffset: i, warcLength: 1, offsetKind: "plain", fetchDate: "", lang: "en", langConf: 1, title: "", text, contentHash: "" });
  }
  store.commitFile("w", { pages: nDocs, kept: nDocs, urlDups: 0, stats: {} });
  store.setRound(1, { step: "done" });
  store.db.exec("INSERT INTO scores (round, doc_id, score) SELECT 1, id, (id % 997) / 997.0 FROM documents");
  store.db.exec("INSERT INTO selections (round, doc_id) SELECT 1, id FROM documents");
  console.log(`scale: store of ${nDocs} documents built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  t = performance.now();
  const s = await cleanRound(RunStores.from(store, dir, undefined), 1, index, DEFAULT_MINHASH, nullLogger);
  const sec = (performance.now() - t) / 1000;
  clearInterval(timer);
  console.log(`scale: cleanRound of ${nDocs} documents in ${sec.toFixed(1)} s (${JSON.stringify(s.seconds)}); kept ${s.kept}, removed ${JSON.stringify(s.removed)}, ${s.clusters} clusters; peak RSS ${(Math.max(peak, process.memoryUsage().rss) / 2 ** 20).toFixed(0)} MB`);
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main(process.argv.slice(2));
