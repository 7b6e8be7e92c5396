/**
 * Extraction benchmark: docs/s and MB/s of HTML, language id included, on the pages of a WARC
 * (read into memory first, so only extraction is timed): inline on the main thread (one core),
 * then with worker threads (one per core).
 *
 *   node dist/scripts/bench-extract.js [FILE.warc.gz ...] [--limit N]
 */
import os from "node:os";
import path from "node:path";
import { nullLogger } from "../src/core/log.js";
import { packageRoot } from "../src/core/paths.js";
import { DEFAULT_FILTERS } from "../src/extract/filters.js";
import type { RawDoc } from "../src/extract/inputs.js";
import { LangId } from "../src/extract/lang.js";
import { ExtractStats, extractDocs } from "../src/extract/pipeline.js";
import { Extractor } from "../src/extract/pool.js";
import { DEFAULT_LIMITS } from "../src/extract/tree.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

async function load(file: string, limit: number): Promise<RawDoc[]> {
  const docs: RawDoc[] = [];
  for await (const p of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
    docs.push({ id: `${p.offset}`, url: p.url, body: p.body, contentType: p.contentType });
    if (docs.length >= limit) break;
  }
  return docs;
}

async function run(docs: RawDoc[], threads: number): Promise<{ seconds: number; kept: number }> {
  const opts = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS };
  const extractor = new Extractor(opts, threads);
  const lang = new LangId();
  const stats = new ExtractStats();
  async function* src(n: number) {
    yield* docs.slice(0, n);
  }
  const pass = async (n: number) => {
    let kept = 0;
    for await (const _ of extractDocs(src(n), extractor, lang, { ...opts, langs: [], window: Math.max(8, threads * 8) }, stats)) kept++;
    return kept;
  };
  // steady state, as in a long run: a first pass warms the JIT of every worker, the second is timed
  await pass(Math.min(docs.length, 1000));
  const t = performance.now();
  const kept = await pass(docs.length);
  const seconds = (performance.now() - t) / 1000;
  await Promise.all([extractor.close(), lang.close()]);
  return { seconds, kept };
}

async function main(argv: string[]): Promise<void> {
  const li = argv.indexOf("--limit");
  const limit = li >= 0 ? Number(argv[li + 1]) : 5000;
  const files = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--limit");
  if (files.length === 0) files.push(path.join(packageRoot(), "data", "crawl-sample.warc.gz"));
  const cores = os.availableParallelism();
  console.log(`node ${process.version}; ${cores} cores`);
  for (const file of files) {
    const docs = await load(file, limit);
    const bytes = docs.reduce((n, d) => n + (typeof d.body === "string" ? d.body.length : d.body.length), 0);
    console.log(`${path.basename(file)}: ${docs.length} pages, ${(bytes / docs.length / 1024).toFixed(0)} KB average HTML`);
    const one = await run(docs, 0);
    const many = await run(docs, cores);
    const line = (label: string, r: { seconds: number; kept: number }, perCore: number) =>
      console.log(
        `  ${label.padEnd(22)} ${r.seconds.toFixed(2)} s  ${(docs.length / r.seconds).toFixed(0)} docs/s  ${(bytes / r.seconds / 1e6).toFixed(1)} MB/s  ` +
          `(${(docs.length / r.seconds / perCore).toFixed(0)} docs/s per core; ${r.kept} kept)`,
      );
    line("main thread (1 core)", one, 1);
    line(`${cores} worker threads`, many, cores);
    console.log(`  scaling: ${(one.seconds / many.seconds).toFixed(2)}x on ${cores} cores (target: >= 300 docs/s per core)`);
  }
}

await main(process.argv.slice(2));
