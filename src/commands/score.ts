import os from "node:os";
import { openScorer } from "../classify/scorer.js";
import { checkEngine, engineOptionSpecs } from "../config/classify.js";
import { extractOptionSpecs, toExtractOptions } from "../config/extract.js";
import { warcOptionSpecs } from "../config/warc.js";
import { EXIT, UsageError } from "../core/errors.js";
import { type Io, writeLine } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { LangId } from "../extract/lang.js";
import { type Doc, ExtractStats, extractDocs } from "../extract/pipeline.js";
import { Extractor } from "../extract/pool.js";
import { rawDocs } from "../extract/sources.js";
import { WarcStats } from "../warc/pages.js";
import type { Command } from "./command.js";
import { openSession } from "./session.js";
import { warcReading } from "./warcrun.js";

const specs = {
  model: { type: "string", arg: "MODEL.bin", help: "a model written by `mathcorpus train` or a round (required)" },
  processes: { type: "number", default: os.availableParallelism(), arg: "N", help: "fastText scoring processes with --engine binary (one per core by default)" },
  batch: { type: "number", default: 256, arg: "N", help: "documents per batch sent to a scoring process" },
  log: { type: "string", arg: "FILE", help: "append JSON-lines logs to FILE" },
  ...engineOptionSpecs,
  ...extractOptionSpecs,
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Prints one JSON line per document: {"id", "url", "score"}, score = P(math). Sources are
JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or Parquet files (text or html), HTML files, or WARC sources (pages are extracted first).`;

export const command: Command = {
  name: "score",
  summary: "score documents with a math classifier",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("score", specs, argv, io.cwd, true);
    if (cl.help) {
      io.stdout.write(renderHelp("score", "--model MODEL.bin SOURCE... [options]", "Score documents with a math classifier: P(math) per document.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    const extract = toExtractOptions(o);
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "score", sources: cl.positionals, ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (!o.model) throw new UsageError("score: --model MODEL.bin is required");
    if (cl.positionals.length === 0) throw new UsageError("score: name at least one SOURCE");
    if (!Number.isInteger(o.batch) || o.batch < 1) throw new UsageError(`--batch expects a whole number ≥ 1, got ${o.batch}`);
    const session = openSession(io, o.log, undefined, "--log");
    const scorer = openScorer(o.model, o.processes, (why) => session.warn(`scoring with the fastText binary: ${why}`), checkEngine(o.engine));
    const extractor = new Extractor(extract, o.threads);
    const lang = new LangId();
    const stats = new ExtractStats();
    const warcStats = new WarcStats();
    const started = Date.now();
    let scored = 0;
    try {
      const docs = extractDocs(rawDocs(cl.positionals, warcReading(o, io, session.logger), session.logger, warcStats, session.warn), extractor, lang, { ...extract, langs: o.langs, window: extractor.window }, stats);
      // batches in flight on every process, written out in input order
      const inflight: Array<Promise<[Doc[], number[]]>> = [];
      const flushOne = async () => {
        const [batch, scores] = await inflight.shift()!;
        for (let i = 0; i < batch.length; i++) await writeLine(io.stdout, JSON.stringify({ id: batch[i]!.id, url: batch[i]!.url, score: +scores[i]!.toFixed(6) }));
        scored += batch.length;
      };
      let batch: Doc[] = [];
      const send = () => {
        const b = batch;
        batch = [];
        const p = scorer.score(b.map((d) => d.text)).then((s) => [b, s] as [Doc[], number[]]);
        p.catch(() => {});
        inflight.push(p);
      };
      for await (const d of docs) {
        batch.push(d);
        if (batch.length >= o.batch) send();
        if (inflight.length > o.processes * 2) await flushOne();
        if (io.signal?.aborted) break;
      }
      if (batch.length) send();
      while (inflight.length) await flushOne();
    } catch (err) {
      session.abandon();
      throw err;
    } finally {
      await Promise.all([scorer.close(), extractor.close(), lang.close(), session.close()]);
    }
    const seconds = (Date.now() - started) / 1000;
    io.stderr.write(`score: ${scored} documents scored in ${seconds.toFixed(1)}s; dropped before scoring: ${stats.dropped.describe() || "none"}\n`);
    if (io.signal?.aborted) return EXIT.interrupted;
    return warcStats.filesFailed > 0 ? EXIT.partial : EXIT.ok;
  },
};
