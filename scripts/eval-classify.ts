/**
 * Classifier quality on pages never trained on (issue [classify]):
 *  A. trained on the bundled sample seeds with negatives sampled from the sample crawl;
 *  B. trained on the bundled sample seeds with the non-math pages of ../shared/data/negatives
 *     (their train split, by a hash of the id) as negatives;
 * both evaluated on PlanetMath entries of MSC 20/26/54 (HTML, not in the seed files) against the
 * held-out split of the web_html_* and cc_text negatives, leaving out every page the sample
 * crawl holds (by URL), so no page is both trained on and evaluated on.
 *
 *   node dist/scripts/eval-classify.js [--data ../shared/data] [--bucket N] [--quantize] [--out DIR] [--variants paper,sized,EPOCH:LR,...]
 *
 * paper: the paper's epochs and lr, sampled pages as negatives; sized: epochs and lr sized to the data,
 * and in A the sampled pages treated as unlabeled (classify/pu.ts) as the rounds do.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { evaluate } from "../src/classify/metrics.js";
import { metricsTable } from "../src/classify/report.js";
import { Scorer, openScorer } from "../src/classify/scorer.js";
import { type TextDoc, readSeeds, splitKey } from "../src/classify/seeds.js";
import { dropMathLike } from "../src/classify/pu.js";
import { PU_RECALL } from "../src/rounds/negatives.js";
import { Reservoir, isHeldOut } from "../src/classify/split.js";
import { runFastText } from "../src/classify/fasttext.js";
import { DEFAULT_ARGS, trainModel, writeTrainingFile } from "../src/classify/train.js";
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

/**
 * Pages of the negative sets that are mathematics on inspection (the data's own note: "a few
 * pages may be mathematical"): a MathJax demo of formulas, two math StackExchange threads and a
 * page explaining the quantum factoring algorithm. Reported both ways.
 */
const MATH_BY_INSPECTION = new Set([
  "readability:mathjax",
  "dolma-cc2019:jmsesyukabgw3b5qr4jeqgihxrmsmoss",
  "dolma-cc2019:3yoohbag44mba3tbg6i3fkfysm6gjzc7",
  "dolma-cc2019:siobjeh7cqa53viartil6cyo4phkz753",
]);

interface Rec {
  id: string;
  url?: string | null;
  html?: string;
  text?: string;
  msc?: string;
  label?: string;
}

function readJsonl(file: string): Rec[] {
  const buf = fs.readFileSync(file);
  return (file.endsWith(".gz") ? zlib.gunzipSync(buf) : buf)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Rec);
}

/** The URL make-cc-warc.py gives a page without one. */
function packedUrl(r: Rec): string {
  if (r.url) return r.url.trim().replace(/ /g, "%20");
  const h = crypto.createHash("sha1").update(r.id).digest("hex");
  return `https://site-${h.slice(0, 8)}.invalid/${h.slice(8, 16)}.html`;
}

const opts = { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS };

async function extractAll(recs: Rec[], extractor: Extractor, lang: LangId): Promise<TextDoc[]> {
  async function* raw(): AsyncGenerator<RawDoc> {
    for (const r of recs) yield { id: r.id, url: r.url ?? "", body: r.html ?? "", ...(r.html ? {} : { text: r.text ?? "" }) };
  }
  const out: TextDoc[] = [];
  for await (const d of extractDocs(raw(), extractor, lang, { ...opts, langs: [], window: 32 }, new ExtractStats())) out.push({ id: d.id, url: d.url, text: d.text });
  return out;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const data = arg("--data") ?? path.resolve("..", "shared", "data");
  const bucket = Number(arg("--bucket") ?? DEFAULT_ARGS.bucket);
  const quantize = argv.includes("--quantize");
  const outDir = arg("--out") ?? fs.mkdtempSync(path.join(os.tmpdir(), "eval-classify-"));
  const root = packageRoot();
  const extractor = new Extractor(opts);
  const lang = new LangId();
  const warn = () => {};

  // the sample crawl: its URLs are excluded from evaluation; its pages are setup A's negatives
  const crawlDocs: TextDoc[] = [];
  const crawlUrls = new Set<string>();
  async function* crawl(): AsyncGenerator<RawDoc> {
    for await (const p of readPages(localSource(path.join(root, "data", "crawl-sample.warc.gz")), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
      crawlUrls.add(p.url);
      yield { id: `crawl@${p.offset}`, url: p.url, body: p.body, contentType: p.contentType };
    }
  }
  for await (const d of extractDocs(crawl(), extractor, lang, { ...opts, langs: [], window: 32 }, new ExtractStats())) crawlDocs.push({ id: d.id, url: d.url, text: d.text });

  const seeds = (await readSeeds(path.join(root, "seeds"), extractor, lang, opts, warn)).docs;
  const seedIds = new Set(seeds.map((s) => s.id));
  const pm = readJsonl(path.join(data, "seeds", "planetmath_shared.jsonl.gz")).filter((r) => /^(20|26|54)/.test(r.msc ?? "") && !seedIds.has(r.id) && !crawlUrls.has(packedUrl(r)));
  const negFiles = ["web_html_scrapinghub", "web_html_newspaper", "web_html_trafilatura", "web_html_readability", "docs_html_python3.11"].map((n) => path.join(data, "negatives", `${n}.jsonl.gz`));
  negFiles.push(path.join(data, "negatives", "cc_text_dolma.jsonl"));
  const negRecs = negFiles.flatMap(readJsonl).filter((r) => !crawlUrls.has(packedUrl(r)));
  const negTrainRecs = negRecs.filter((r) => !isHeldOut(r.id, 0.5));
  const negEvalRecs = negRecs.filter((r) => isHeldOut(r.id, 0.5) && !r.id.startsWith("debian-python"));

  const evalPos = await extractAll(pm, extractor, lang);
  const evalNeg = await extractAll(negEvalRecs, extractor, lang);
  const negTrain = await extractAll(negTrainRecs, extractor, lang);
  console.log(`seeds ${seeds.length}; sample-crawl pages ${crawlDocs.length}; evaluation: ${evalPos.length} PlanetMath MSC 20/26/54 entries vs ${evalNeg.length} web pages (held-out half of web_html_* and cc_text, none in the sample crawl)`);

  const setups: Array<[string, TextDoc[]]> = [];
  const sample = new Reservoir<TextDoc>(seeds.length, 1);
  for (const d of crawlDocs) sample.offer(d);
  setups.push(["A: negatives sampled from the sample crawl", sample.items]);
  setups.push(["B: negatives = train half of ../shared/data/negatives", negTrain]);
  // training settings compared: paper (epoch 3, lr 0.1, sampled pages as negatives) and sized
  // (epochs and lr sized to the data; sampled pages treated as unlabeled: classify/pu, as rounds do)
  const variants = (arg("--variants") ?? "paper,sized").split(",");
  const posTrain = seeds.filter((d) => !isHeldOut(splitKey(d), 0.1));
  const posHeld = seeds.filter((d) => isHeldOut(splitKey(d), 0.1));
  for (const [setup, negAll] of setups) for (const variant of variants) {
    const paper = variant === "paper";
    // EPOCH:LR: those, with the sampled pages treated as unlabeled as in "sized"
    const fixed = /^(\d+):([\d.]+)$/.exec(variant);
    const args = { ...DEFAULT_ARGS, bucket, ...(paper ? {} : fixed ? { epoch: Number(fixed[1]), lr: Number(fixed[2]) } : { epoch: 0, lr: 0 }) };
    let neg = negAll;
    let removedNote = "";
    if (!paper && setup.startsWith("A")) {
      const pu = await dropMathLike(posTrain, posHeld, negAll, [], {
        recall: PU_RECALL,
        passes: 2,
        train: async (name, p, n) => {
          const file = path.join(outDir, `pu-${name}.bin`);
          await trainModel(p, n, file, { args: { ...args, dim: 64 }, threads: os.availableParallelism(), deterministic: false, seed: 1 });
          const sc = openScorer(file, 1);
          return { score: (t) => sc.score(t), close: () => sc.close() };
        },
      });
      neg = pu.kept;
      removedNote = `; ${pu.removed.length} sampled pages taken for math and left out`;
    }
    const name = `${setup} [${variant}]`;
    const model = path.join(outDir, `${setup[0]}-${variant}.bin`);
    const r = await trainModel(posTrain, neg, model, { args, threads: os.availableParallelism(), deterministic: false, seed: 1 });
    const trainedWith = `epoch ${r.args.epoch}, lr ${r.args.lr}, loss ${r.loss ?? "?"}${removedNote}`;
    if (quantize) {
      // fastText's product quantisation, retrained on the same data: a .ftz beside the .bin
      const prefix = model.replace(/\.bin$/, "");
      await writeTrainingFile(`${prefix}.train.txt`, posTrain, neg, 1);
      await runFastText(["quantize", "-input", `${prefix}.train.txt`, "-output", prefix, "-qnorm", "-retrain", "-cutoff", "100000", "-thread", String(os.availableParallelism())]);
      fs.rmSync(`${prefix}.train.txt`, { force: true });
      r.model = `${prefix}.ftz`;
      r.bytes = fs.statSync(r.model).size;
    }
    const scorer = new Scorer(r.model, 1);
    await scorer.score(["warm up"]);
    const t0 = performance.now();
    const posScores = await scorer.score(evalPos.map((d) => d.text));
    const negScores = await scorer.score(evalNeg.map((d) => d.text));
    const rate = (evalPos.length + evalNeg.length) / ((performance.now() - t0) / 1000);
    await scorer.close();
    const m = evaluate(posScores, negScores);
    const clean = evaluate(posScores, negScores.filter((_, i) => !MATH_BY_INSPECTION.has(evalNeg[i]!.id)));
    console.log(`\n${name}: ${posTrain.length} positives, ${neg.length} negatives (${trainedWith}); bucket ${bucket}${quantize ? " quantized" : ""}; model ${(r.bytes / 1e6).toFixed(0)} MB, trained in ${r.seconds.toFixed(1)} s; scoring ${rate.toFixed(0)} docs/s (one process)`);
    process.stdout.write(metricsTable(m, "evaluation, negatives as labelled"));
    process.stdout.write(metricsTable(clean, `evaluation without the ${evalNeg.filter((d) => MATH_BY_INSPECTION.has(d.id)).length} 'negatives' that are mathematics`));
  }
  await Promise.all([extractor.close(), lang.close()]);
}

await main(process.argv.slice(2));
