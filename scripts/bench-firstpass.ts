/**
 * First-pass benchmark: the cheap text, math signals and feature hashes of [speed]'s first pass
 * per page, beside the full extraction (extractPage with features) of the same pages, on one
 * core, and node:zlib's gunzip of the file as the floor.
 *
 *   node dist/scripts/bench-firstpass.js FILE.warc.gz [--pages N]
 */
import { parseArgs } from "node:util";
import { nullLogger } from "../src/core/log.js";
import { featureHashes } from "../src/classify/hashes.js";
import { extractPage } from "../src/extract/extract.js";
import { DEFAULT_FILTERS } from "../src/extract/filters.js";
import { firstPass } from "../src/extract/firstpass.js";
import { FIRST_PASS_TEXT } from "../src/rounds/firstpass.js";
import { DEFAULT_LIMITS } from "../src/extract/tree.js";
import type { Page } from "../src/warc/page.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";
import { gunzip } from "./split-crawl.js";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { pages: { type: "string", default: "3000" } } });
const file = positionals[0]!;
const limit = Number(values.pages);

const pages: Page[] = [];
let t = performance.now();
for await (const p of readPages(localSource(file), { maxRecordBytes: 10 << 20, logger: nullLogger }, new WarcStats())) {
  pages.push(p);
  if (pages.length >= limit) break;
}
const readMs = performance.now() - t;
const bytes = pages.reduce((a, p) => a + p.body.length, 0);

t = performance.now();
let chars = 0;
for (const p of pages) {
  const f = firstPass(p.body, p.contentType, undefined, FIRST_PASS_TEXT);
  chars += featureHashes(f.text).length + f.signals;
}
const firstMs = performance.now() - t;

t = performance.now();
for (const p of pages) extractPage({ body: p.body, contentType: p.contentType }, { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS, features: true });
const fullMs = performance.now() - t;

// the floor: node:zlib's streaming gunzip of the whole file, per HTML page of it
const pagesInFile = await (async () => {
  let n = 0;
  for await (const _ of readPages(localSource(file), { maxRecordBytes: 10 << 20, logger: nullLogger }, new WarcStats())) n++;
  return n;
})();
const gunzipMs = (await gunzip([file])) * 1000;
void chars;
const per = (ms: number) => (ms / pages.length).toFixed(3);
console.log(`pages ${pages.length}  HTML ${(bytes / pages.length / 1024).toFixed(1)} KB/page  read ${per(readMs)} ms/page`);
console.log(`first pass (text of at most ${FIRST_PASS_TEXT} characters + signals + features): ${per(firstMs)} ms/page, ${(bytes / 2 ** 20 / (firstMs / 1000)).toFixed(0)} MB/s`);
console.log(`full extraction (+ features):           ${per(fullMs)} ms/page  (${(fullMs / firstMs).toFixed(1)}x the first pass)`);
console.log(`node:zlib gunzip of the whole file: ${gunzipMs.toFixed(0)} ms = ${(gunzipMs / pagesInFile).toFixed(3)} ms per HTML page (${pagesInFile}); the first pass is ${(firstMs / pages.length / (gunzipMs / pagesInFile)).toFixed(1)}x that`);
