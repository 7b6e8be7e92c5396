import { tsvLine } from "../core/terminal.js";
import { writeAtomic } from "../core/atomic.js";
import { checkOutputFile } from "../core/outputs.js";
import path from "node:path";
import { EXIT, UsageError } from "../core/errors.js";
import { type Io, writeLine } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { Progress, formatRate } from "../core/progress.js";
import { extractOptionSpecs, toExtractOptions } from "../config/extract.js";
import { warcOptionSpecs } from "../config/warc.js";
import { LangId } from "../extract/lang.js";
import { type Doc, ExtractStats, extractDocs } from "../extract/pipeline.js";
import { Extractor } from "../extract/pool.js";
import { WarcStats } from "../warc/pages.js";
import type { Command } from "./command.js";
import { openSession } from "./session.js";
import { rawDocs } from "../extract/sources.js";
import { warcReading } from "./warcrun.js";

const specs = {
  jsonl: { type: "boolean", default: false, help: "print one JSON object per document (id, url, lang, lang_confidence, title, text, …) instead of a tab-separated overview" },
  stats: { type: "string", arg: "FILE", help: "write counts (kept, dropped by reason, languages, WARC counts) as JSON to FILE" },
  log: { type: "string", arg: "FILE", help: "append JSON-lines logs (every dropped page with its reason) to FILE" },
  ...extractOptionSpecs,
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Sources: WARC files, folders, URLs and crawl ids (as for \`pages\`), HTML files (.html,
.htm), and JSON-lines (.jsonl, .ndjson, .json.gz; .gz/.zst) or Parquet files of documents with an \`html\` field (extracted like crawled pages)
or a \`text\` field (kept as is, filtered and language-identified).

Text keeps mathematics as LaTeX: inline $…$, display $$…$$, from MathJax script tags, MathML
(alttext, TeX annotations, or converted), KaTeX/MathJax 3 annotations and TeX images.
Dropped pages are counted by reason: undecodable, too_short, low_text_ratio, mostly_non_text,
lang_excluded, extract_error.`;

function docLine(d: Doc, jsonl: boolean): string {
  if (jsonl) {
    return JSON.stringify({ id: d.id, url: d.url, lang: d.lang, lang_confidence: Number(d.langConfidence.toFixed(4)), title: d.title, charset: d.charset, truncated: d.truncated, text: d.text });
  }
  return tsvLine([d.url || d.id, d.lang, d.langConfidence.toFixed(2), d.text.length, d.title.replace(/\s+/g, " ").slice(0, 80) || "-"]);
}

export const command: Command = {
  name: "extract",
  summary: "extract text (mathematics kept as LaTeX) and language from pages",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("extract", specs, argv, io.cwd, true);
    if (cl.help) {
      io.stdout.write(renderHelp("extract", "SOURCE... [options]", "Extract the main text of pages, keeping mathematics as LaTeX, with language id.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    const extractOpts = toExtractOptions(o);
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "extract", sources: cl.positionals, ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (cl.positionals.length === 0) throw new UsageError("extract: name at least one SOURCE (see mathcorpus extract --help)");
    const progress = new Progress(io.stderr);
    if (o.stats) checkOutputFile("--stats", path.resolve(io.cwd, o.stats), o.stats);
    const session = openSession(io, o.log, () => progress.done(), "--log");
    const { logger, warn } = session;
    const extractor = new Extractor(extractOpts, o.threads);
    const lang = new LangId();
    const stats = new ExtractStats();
    const warcStats = new WarcStats();
    const started = Date.now();
    try {
      const docs = extractDocs(rawDocs(cl.positionals, warcReading(o, io, logger), logger, warcStats, warn), extractor, lang, {
        ...extractOpts,
        langs: o.langs,
        window: extractor.window,
        onDrop: (raw, reason, message) => {
          logger.log("info", "dropped", { id: raw.id, url: raw.url, reason, ...(message ? { message } : {}) });
          if (message && (reason === "undecodable" || reason.startsWith("extract_"))) warn(`${raw.url || raw.id}: ${reason}: ${message}`);
        },
      }, stats);
      for await (const d of docs) {
        await writeLine(io.stdout, docLine(d, o.jsonl));
        const s = progress.elapsed();
        progress.update(() => `pages ${stats.seen}  kept ${stats.kept}  ${formatRate(stats.seen, s)} pages/s`);
        if (io.signal?.aborted) break;
      }
    } finally {
      progress.done();
      await Promise.all([extractor.close(), lang.close()]);
    }
    const seconds = (Date.now() - started) / 1000;
    const summary = { seconds, ...stats.toJSON(), warc: warcStats.files > 0 ? warcStats.toJSON() : undefined };
    if (o.stats) writeAtomic(path.resolve(io.cwd, o.stats), JSON.stringify(summary, null, 2) + "\n");
    logger.log("info", "summary", summary);
    await session.close();
    const top = Object.entries(stats.langs.toJSON()).sort((a, b) => (b[1] as number) - (a[1] as number)).slice(0, 5).map(([k, v]) => `${k}=${v}`).join(" ");
    io.stderr.write(
      `extract: ${stats.kept} of ${stats.seen} pages kept in ${seconds.toFixed(1)}s (${formatRate(stats.seen, seconds)} pages/s); dropped: ${stats.dropped.describe() || "none"}; languages: ${top || "none"}` +
        (warcStats.files > 0 ? `; WARC: ${warcStats.files} files, ${warcStats.records} records, input errors ${warcStats.errors()}` : "") +
        "\n",
    );
    if (io.signal?.aborted) return EXIT.interrupted;
    return warcStats.filesFailed > 0 ? EXIT.partial : EXIT.ok;
  },
};
