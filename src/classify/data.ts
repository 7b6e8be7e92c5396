import path from "node:path";
import type { Logger } from "../core/log.js";
import type { ExtractOptions } from "../extract/extract.js";
import type { LangId } from "../extract/lang.js";
import { type Doc, ExtractStats, extractDocs } from "../extract/pipeline.js";
import type { Extractor } from "../extract/pool.js";
import { isDocFile, isHtmlFile } from "../extract/inputs.js";
import { type WarcReadOptions, expandFolders, rawDocs } from "../extract/sources.js";
import { WarcStats } from "../warc/pages.js";
import { type TextDoc, docSetHash, readSeeds, seedName, splitKey } from "./seeds.js";
import { Reservoir, isHeldOut } from "./split.js";

export interface Split {
  train: TextDoc[];
  heldOut: TextDoc[];
}

export function splitDocs(docs: TextDoc[], share: number): Split {
  const s: Split = { train: [], heldOut: [] };
  for (const d of docs) (isHeldOut(splitKey(d), share) ? s.heldOut : s.train).push(d);
  return s;
}

/** An extracted document as a training document, split by its location-free key. */
const asTextDoc = (d: Doc): TextDoc => ({ id: d.id, url: d.url, text: d.text, ...(d.key ? { split: d.key } : {}) });

export interface DataOptions {
  extract: ExtractOptions;
  warc: WarcReadOptions;
  heldOut: number;
  /** Negatives sampled from WARC sources (0: as many as the positives; -1: all of them). */
  negCount: number;
  seed: number;
}

export interface TrainingData {
  positives: Split;
  negatives: Split;
  seedHash: string;
  /** The seed files' names (classify/seeds seedName). */
  seedFiles: string[];
  negativeSources: string[];
  extractStats: ExtractStats;
  warcStats: WarcStats;
}

/**
 * Negatives from sources: the documents of JSONL, Parquet and HTML files whole; the pages of
 * WARC sources as a seeded uniform sample (reservoir) of `k` (o.negCount < 0: all of them).
 * Folders are opened first.
 */
export async function loadNegatives(
  negativeSpecs: string[],
  o: DataOptions,
  k: number,
  logger: Logger,
  extractor: Extractor,
  lang: LangId,
  warn: (m: string) => void,
): Promise<{ negatives: TextDoc[]; extractStats: ExtractStats; warcStats: WarcStats }> {
  const specs = expandFolders(negativeSpecs, o.warc.resolve.cwd);
  const whole = specs.filter((s) => isDocFile(s) || isHtmlFile(s));
  const warcSpecs = specs.filter((s) => !whole.includes(s));
  const extractStats = new ExtractStats();
  const warcStats = new WarcStats();
  const negatives: TextDoc[] = [];
  const pipeline = { ...o.extract, langs: [], window: extractor.window };
  // ids hold files' paths as written: documents are split and ordered by their location-free
  // key (a WARC page's normalised URL, as a run's stored pages are: rounds/round)
  if (whole.length > 0) {
    for await (const d of extractDocs(rawDocs(whole, o.warc, logger, warcStats, warn), extractor, lang, pipeline, extractStats)) negatives.push(asTextDoc(d));
  }
  if (warcSpecs.length > 0 && o.negCount < 0) {
    for await (const d of extractDocs(rawDocs(warcSpecs, o.warc, logger, warcStats, warn), extractor, lang, pipeline, extractStats)) negatives.push(asTextDoc(d));
  } else if (warcSpecs.length > 0) {
    const reservoir = new Reservoir<TextDoc>(k, o.seed);
    for await (const d of extractDocs(rawDocs(warcSpecs, o.warc, logger, warcStats, warn), extractor, lang, pipeline, extractStats)) reservoir.offer(asTextDoc(d));
    negatives.push(...reservoir.items);
    logger.log("info", "negatives_sampled", { sampled: reservoir.items.length, of: reservoir.count });
  }
  return { negatives, extractStats, warcStats };
}

/**
 * Seeds (positives) and negatives, each split into train and held-out by a hash of the id
 * (of the URL for pages from WARCs).
 * Negatives from WARC sources are a seeded uniform sample (reservoir) of the extracted pages;
 * JSONL and HTML files are used whole.
 */
export async function loadTrainingData(
  seedDir: string,
  negativeSpecs: string[],
  o: DataOptions,
  logger: Logger,
  extractor: Extractor,
  lang: LangId,
  warn: (m: string) => void,
): Promise<TrainingData> {
  const seedPath = path.resolve(o.warc.resolve.cwd, seedDir);
  const seeds = await readSeeds(seedPath, extractor, lang, o.extract, warn);
  const positives = splitDocs(seeds.docs, o.heldOut);
  const { negatives, extractStats, warcStats } = await loadNegatives(negativeSpecs, o, o.negCount > 0 ? o.negCount : seeds.docs.length, logger, extractor, lang, warn);
  return {
    positives,
    negatives: splitDocs(negatives, o.heldOut),
    seedHash: docSetHash(seeds.docs),
    seedFiles: seeds.files.map((f) => seedName(seedPath, f)),
    negativeSources: negativeSpecs,
    extractStats,
    warcStats,
  };
}
