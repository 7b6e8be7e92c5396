/**
 * The candidate pool of [speed], measured on a crawl: the first-pass model is trained on the
 * seeds' cheap texts against the crawl's first pages, its bar set on the held-out seeds, and then
 * every page of the crawl gets the first pass (cheap text, math signals, score). It reports the
 * pool's share of the crawl, its recall of the held-out seeds, of the crawl's math pages (pages
 * of --math-host, as make-cc-warc.py packs them) and, given a run that extracted everything, of
 * each round's selection; and the first pass's cost per page on one core.
 *
 *   node dist/scripts/eval-pool.js FILE.warc.gz [--seeds seeds/] [--sample 4000] [--run DIR] [--json]
 *                                  [--max-text N] [--word-ngrams N] [--dim N] [--epoch N]
 *                                  (the first-pass model's settings; epoch 0: sized to the data)
 *
 * Make FILE with make-cc-warc.py … --pages 20000 --math-share 0.02 --vary-urls.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";
import { nullLogger } from "../src/core/log.js";
import { packageRoot } from "../src/core/paths.js";
import { firstPass, isCandidate } from "../src/extract/firstpass.js";
import { FIRST_PASS_ARGS, FIRST_PASS_TEXT, POOL_RECALL, firstPassSeeds, trainFirstPass } from "../src/rounds/firstpass.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seeds: { type: "string", default: path.join(packageRoot(), "seeds") },
    sample: { type: "string", default: "4000" },
    "math-host": { type: "string", default: "planetmath.org" },
    run: { type: "string" },
    recall: { type: "string", default: String(POOL_RECALL) },
    json: { type: "boolean", default: false },
    "max-text": { type: "string", default: String(FIRST_PASS_TEXT) },
    "word-ngrams": { type: "string", default: String(FIRST_PASS_ARGS.wordNgrams) },
    dim: { type: "string", default: String(FIRST_PASS_ARGS.dim) },
    epoch: { type: "string", default: String(FIRST_PASS_ARGS.epoch) },
  },
});
const file = positionals[0];
if (!file) throw new Error("usage: eval-pool FILE.warc.gz [--seeds DIR] [--sample N] [--run DIR] [--json]");
const sampleSize = Number(values.sample);
const mathHost = values["math-host"]!;

const pagesOf = () => readPages(localSource(file), { maxRecordBytes: 10 << 20, logger: nullLogger }, new WarcStats());

const maxText = Number(values["max-text"]);
const seeds = await firstPassSeeds(values.seeds!, () => {}, maxText);
const sample = [];
for await (const p of pagesOf()) {
  sample.push({ id: `${p.warcFile}@${p.offset}`, url: p.url, text: firstPass(p.body, p.contentType, undefined, maxText).text });
  if (sample.length >= sampleSize) break;
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "eval-pool-"));
const fp = await trainFirstPass(seeds, sample, path.join(dir, "first-pass.bin"), {
  heldOut: 0.1,
  recall: Number(values.recall),
  threads: os.availableParallelism(),
  seed: 1,
  args: { ...FIRST_PASS_ARGS, wordNgrams: Number(values["word-ngrams"]), dim: Number(values.dim), epoch: Number(values.epoch) },
});

let pages = 0;
let candidates = 0;
let bySignal = 0;
let math = 0;
let mathKept = 0;
let bytes = 0;
let passMs = 0;
let scoreMs = 0;
const inPool = new Set<string>();
const missed: string[] = [];
const wall = performance.now();
for await (const p of pagesOf()) {
  pages++;
  bytes += p.body.length;
  let t = performance.now();
  const f = firstPass(p.body, p.contentType, undefined, maxText);
  passMs += performance.now() - t;
  t = performance.now();
  const score = fp.model.scoreText(f.text);
  scoreMs += performance.now() - t;
  const cand = isCandidate(score, f.signals, fp.bar);
  if (cand) {
    candidates++;
    inPool.add(p.url);
    if (score < fp.bar) bySignal++;
  }
  if (p.host === mathHost) {
    math++;
    if (cand) mathKept++;
    else if (missed.length < 10) missed.push(`${p.url} (${score.toFixed(3)})`);
  }
}
const wallS = (performance.now() - wall) / 1000;

// each round's selection of a run that extracted every page, and the share of it in the pool
const rounds: Array<{ round: number; selected: number; inPool: number; share: number }> = [];
if (values.run) {
  const db = new Database(path.join(values.run, "work.sqlite"), { readonly: true });
  const rows = db.prepare("SELECT s.round AS round, d.url AS url FROM selections s JOIN documents d ON d.id = s.doc_id ORDER BY s.round").all() as Array<{ round: number; url: string }>;
  db.close();
  const by = new Map<number, string[]>();
  for (const r of rows) {
    if (!by.has(r.round)) by.set(r.round, []);
    by.get(r.round)!.push(r.url);
  }
  for (const [round, urls] of by) {
    const kept = urls.filter((u) => inPool.has(u)).length;
    rounds.push({ round, selected: urls.length, inPool: kept, share: kept / urls.length });
  }
}
fs.rmSync(dir, { recursive: true, force: true });

const out = {
  file,
  pages,
  html_mb: bytes / 2 ** 20,
  seeds: seeds.length,
  sample: sample.length,
  train_s: fp.trainSeconds,
  bar: fp.bar,
  held_out: fp.heldOut,
  held_recall: fp.heldRecall,
  pool: candidates,
  pool_share: candidates / pages,
  pool_by_signal_only: bySignal,
  math_pages: math,
  math_recall: math ? mathKept / math : null,
  missed_math: missed,
  first_pass_ms_per_page: passMs / pages,
  score_ms_per_page: scoreMs / pages,
  wall_s: wallS,
  rounds,
};
if (values.json) console.log(JSON.stringify(out, null, 2));
else {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  console.log(`${pages} pages (${out.html_mb.toFixed(0)} MB of HTML); ${seeds.length} seeds, ${sample.length} sampled pages, first-pass model trained in ${fp.trainSeconds.toFixed(1)} s`);
  console.log(`bar ${fp.bar.toFixed(4)}: held-out seeds kept ${pct(fp.heldRecall)} of ${fp.heldOut}`);
  console.log(`pool: ${candidates} pages = ${pct(out.pool_share)} of the crawl (${bySignal} by a math signal alone)`);
  console.log(`crawl math pages (${mathHost}): ${mathKept}/${math} in the pool = ${math ? pct(mathKept / math) : "-"}`);
  for (const m of missed) console.log(`  missed ${m}`);
  for (const r of rounds) console.log(`round ${r.round} of --run: ${r.inPool}/${r.selected} selected pages in the pool = ${pct(r.share)}`);
  console.log(`max text ${maxText}, word n-grams ${values["word-ngrams"]}; first pass ${out.first_pass_ms_per_page.toFixed(3)} ms/page + score ${out.score_ms_per_page.toFixed(3)} ms/page on one core; ${wallS.toFixed(1)} s in all (reading included)`);
}
