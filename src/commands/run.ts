import fs from "node:fs";
import path from "node:path";
import { EXIT } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { fileLogger } from "../core/log.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { packageRoot } from "../core/paths.js";
import { warcOptionSpecs } from "../config/warc.js";
import type { Command } from "./command.js";
import { extractOptionSpecs, toExtractOptions } from "../config/extract.js";
import { LangId } from "../extract/lang.js";
import { ExtractStats, extractDocs } from "../extract/pipeline.js";
import { Extractor } from "../extract/pool.js";
import { WarcStats } from "../warc/pages.js";
import { rawDocs } from "../extract/sources.js";
import { summaryLine, warcReading } from "./warcrun.js";

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory: resolved config, logs and stats go here" },
  sources: { type: "list", default: [], arg: "SOURCE,...", help: "WARC sources to read (default: the bundled sample crawl, data/crawl-sample.warc.gz)" },
  ...extractOptionSpecs,
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Today this runs the stages that exist: streaming the WARC sources into pages and extracting
their text (mathematics as LaTeX) and language, with counts by reason written to
DIR/stats/run.json and logs to DIR/logs/run.jsonl. Later stages (classification rounds,
cleaning, export) join it as they land.`;

export const command: Command = {
  name: "run",
  summary: "run the pipeline",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("run", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("run", "[options]", "Run the pipeline on the bundled sample or your sources.", specs, details));
      return EXIT.ok;
    }
    const o = { ...cl.options };
    if (o.sources.length === 0) o.sources = [path.join(packageRoot(), "data", "crawl-sample.warc.gz")];
    const config = { command: "run", ...o };
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify(config, null, 2) + "\n");
      return EXIT.ok;
    }
    const runDir = path.resolve(io.cwd, o.run);
    fs.mkdirSync(path.join(runDir, "stats"), { recursive: true });
    fs.writeFileSync(path.join(runDir, "config.json"), JSON.stringify(config, null, 2) + "\n");
    const logger = fileLogger(path.join(runDir, "logs", "run.jsonl"));
    const extractor = new Extractor(toExtractOptions(o), o.threads);
    const lang = new LangId();
    const warcStats = new WarcStats();
    const stats = new ExtractStats();
    const started = Date.now();
    const warned = new Set<string>();
    const warn = (m: string) => {
      const key = m.replace(/\d+/g, "#").slice(0, 60);
      if (!warned.has(key) && warned.size < 20) io.stderr.write(`warning: ${m}\n`);
      warned.add(key);
    };
    try {
      logger.log("info", "run_start", { config });
      const docs = extractDocs(rawDocs(o.sources, warcReading(o, io, logger), logger, warcStats, warn), extractor, lang, {
        ...toExtractOptions(o),
        langs: o.langs,
        window: Math.max(8, extractor.threads * 8),
        onDrop: (raw, reason, message) => logger.log("info", "dropped", { id: raw.id, url: raw.url, reason, ...(message ? { message } : {}) }),
      }, stats);
      const domains = new Set<string>();
      for await (const d of docs) {
        domains.add(hostOf(d.url));
        if (io.signal?.aborted) break;
      }
      const seconds = (Date.now() - started) / 1000;
      const summary = { seconds, warc: warcStats.toJSON(), extract: stats.toJSON(), domains: domains.size };
      fs.writeFileSync(path.join(runDir, "stats", "run.json"), JSON.stringify(summary, null, 2) + "\n");
      logger.log("info", "run_done", summary);
      io.stderr.write(summaryLine("run", { stats: warcStats, seconds }));
      io.stdout.write(
        `run: ${warcStats.pages} HTML pages → ${stats.kept} documents from ${domains.size} hosts in ${seconds.toFixed(1)}s; ` +
          `dropped in extraction: ${stats.dropped.describe() || "none"}; languages: ${stats.langs.describe().split(" ").slice(0, 6).join(" ")}; ` +
          `stats in ${path.relative(io.cwd, path.join(runDir, "stats", "run.json"))}\n`,
      );
      if (io.signal?.aborted) return EXIT.interrupted;
      return warcStats.filesFailed > 0 ? EXIT.partial : EXIT.ok;
    } finally {
      await Promise.all([extractor.close(), lang.close()]);
      await logger.close();
    }
  },
};
