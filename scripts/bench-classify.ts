/**
 * Classifier benchmark: training time and scoring docs/s of mathcorpus against the raw fastText
 * binary run by hand on the same prepared files, in the same run.
 *
 *   node dist/scripts/bench-classify.js [--repeat N] [--bucket N]
 *
 * Training data: the bundled seeds against the bundled sample crawl. Scoring data: the same
 * documents as fastText lines, repeated --repeat times (default 10, ~22k lines).
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fastTextLine } from "../src/classify/features.js";
import { fasttextBinary } from "../src/classify/fasttext.js";
import { featureHashes } from "../src/classify/hashes.js";
import { LinearModel } from "../src/classify/linear.js";
import { Scorer } from "../src/classify/scorer.js";
import { readSeeds, type TextDoc } from "../src/classify/seeds.js";
import { DEFAULT_ARGS, sha256File, trainModel, writeTrainingFile } from "../src/classify/train.js";
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

const secs = (t: number) => (performance.now() - t) / 1000;

async function main(argv: string[]): Promise<void> {
  const arg = (n: string, d: number) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
  const repeat = arg("--repeat", 10);
  const bucket = arg("--bucket", DEFAULT_ARGS.bucket);
  const threads = os.availableParallelism();
  const root = packageRoot();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-classify-"));
  const opts = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS };
  const extractor = new Extractor(opts);
  const lang = new LangId();
  const seeds = (await readSeeds(path.join(root, "seeds"), extractor, lang, opts, () => {})).docs;
  const neg: TextDoc[] = [];
  async function* crawl(): AsyncGenerator<RawDoc> {
    for await (const p of readPages(localSource(path.join(root, "data", "crawl-sample.warc.gz")), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) yield { id: `${p.offset}`, url: p.url, body: p.body, contentType: p.contentType };
  }
  for await (const d of extractDocs(crawl(), extractor, lang, { ...opts, langs: [], window: 32 }, new ExtractStats())) neg.push({ id: d.id, url: d.url, text: d.text });
  await Promise.all([extractor.close(), lang.close()]);
  const args = { ...DEFAULT_ARGS, bucket };
  console.log(`node ${process.version}; ${threads} cores; ${seeds.length} positives, ${neg.length} negatives; bucket ${bucket}; ${threads} training threads`);

  // training: raw binary on a prepared file vs trainModel (which also writes that file)
  const prepared = path.join(dir, "prepared.txt");
  await writeTrainingFile(prepared, seeds, neg, 1);
  const flags = ["-dim", String(args.dim), "-lr", String(args.lr), "-wordNgrams", String(args.wordNgrams), "-minCount", String(args.minCount), "-epoch", String(args.epoch), "-bucket", String(args.bucket), "-thread", String(threads), "-verbose", "0"];
  // best of three each: the machine's noise is larger than the difference measured
  let rawTrain = Infinity;
  let oursTrain = Infinity;
  let ours: Awaited<ReturnType<typeof trainModel>> | undefined;
  let t = 0;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    execFileSync(fasttextBinary(), ["supervised", "-input", prepared, "-output", path.join(dir, "raw"), ...flags]);
    rawTrain = Math.min(rawTrain, secs(t));
    t = performance.now();
    ours = await trainModel(seeds, neg, path.join(dir, "ours.bin"), { args, threads, deterministic: false, seed: 1 });
    oursTrain = Math.min(oursTrain, secs(t));
  }
  if (!ours) throw new Error("no model");
  t = performance.now();
  sha256File(ours.model);
  const hash = secs(t);
  console.log(`training: raw binary ${rawTrain.toFixed(2)} s; mathcorpus ${oursTrain.toFixed(2)} s (incl. tokenising and writing the training file) = ${(oursTrain / rawTrain).toFixed(2)}x (target <= 1.1x); model ${(ours.bytes / 1e6).toFixed(0)} MB; the sidecar's sha256 of it takes another ${hash.toFixed(2)} s`);

  // scoring: the same prepared lines, raw `predict-prob MODEL FILE 2` vs Scorer
  const lines = [...seeds, ...neg].map((d) => fastTextLine(d.text));
  const all: string[] = [];
  for (let i = 0; i < repeat; i++) all.push(...lines);
  const testFile = path.join(dir, "test.txt");
  fs.writeFileSync(testFile, all.join("\n") + "\n");
  let rawScore = Infinity;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const raw = spawnSync(fasttextBinary(), ["predict-prob", ours.model, testFile, "2"], { maxBuffer: 1 << 30 });
    rawScore = Math.min(rawScore, secs(t));
    if (raw.status !== 0) throw new Error(raw.stderr.toString());
  }
  const rawRate = all.length / rawScore;
  for (const procs of [1, threads]) {
    // timed from a cold start, model loading included, as the raw binary's run is
    let s = Infinity;
    let n = 0;
    for (let i = 0; i < 3; i++) {
      t = performance.now();
      const scorer = new Scorer(ours.model, procs);
      const batches: Array<Promise<number[]>> = [];
      for (let j = 0; j < all.length; j += 512) batches.push(scorer.scoreLines(all.slice(j, j + 512)));
      n = (await Promise.all(batches)).reduce((a, b) => a + b.length, 0);
      s = Math.min(s, secs(t));
      await scorer.close();
    }
    console.log(`scoring ${n} docs (best of 3, model load included): raw binary (1 process, file input) ${rawRate.toFixed(0)} docs/s; mathcorpus with ${procs} process${procs > 1 ? "es" : ""} ${(n / s).toFixed(0)} docs/s = ${(n / s / rawRate).toFixed(2)}x (target >= 0.9x)`);
  }
  // the linear scorer (the default engine): from text (tokenising included), and from the
  // feature hashes the work store keeps (what a later round does)
  const texts: string[] = [];
  for (let i = 0; i < repeat; i++) texts.push(...[...seeds, ...neg].map((d) => d.text));
  let load = Infinity;
  let fromText = Infinity;
  let fromHashes = Infinity;
  let lm: LinearModel | undefined;
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    const m = LinearModel.load(ours.model);
    if (typeof m === "string") throw new Error(`linear scorer refused the model: ${m}`);
    lm = m;
    load = Math.min(load, secs(t));
    t = performance.now();
    for (const x of texts) m.scoreText(x);
    fromText = Math.min(fromText, secs(t));
  }
  const hashes = texts.map((x) => featureHashes(x));
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    for (const h of hashes) lm!.scoreHashes(h);
    fromHashes = Math.min(fromHashes, secs(t));
  }
  const rate = (s: number) => (texts.length / s).toFixed(0);
  console.log(
    `linear scorer, one thread (model read ${load.toFixed(2)} s): from text ${rate(fromText + load)} docs/s = ${(texts.length / (fromText + load) / rawRate).toFixed(2)}x the raw binary; from stored feature hashes ${rate(fromHashes + load)} docs/s = ${(texts.length / (fromHashes + load) / rawRate).toFixed(2)}x (${rate(fromHashes)} docs/s once loaded)`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

await main(process.argv.slice(2));
