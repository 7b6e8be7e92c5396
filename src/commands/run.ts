import fs from "node:fs";
import path from "node:path";
import { EXIT } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { fileLogger } from "../core/log.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { packageRoot } from "../core/paths.js";
import { warcOptionSpecs } from "../config/warc.js";
import type { Command } from "./command.js";
import { readWarcSources, summaryLine } from "./warcrun.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory: resolved config, logs and stats go here" },
  sources: { type: "list", default: [], arg: "SOURCE,...", help: "WARC sources to read (default: the bundled sample crawl, data/crawl-sample.warc.gz)" },
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Today this runs the stage that exists: streaming the WARC sources into pages, with counts
by reason written to DIR/stats/warc.json and logs to DIR/logs/run.jsonl. Later stages
(extraction, classification rounds, cleaning, export) join it as they land.`;

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
    try {
      logger.log("info", "run_start", { config });
      const byDomain = new Map<string, number>();
      const result = await readWarcSources(o.sources, o, io, logger, (page) => {
        byDomain.set(page.domain, (byDomain.get(page.domain) ?? 0) + 1);
      });
      const stats = { seconds: result.seconds, ...result.stats.toJSON(), domains: byDomain.size };
      fs.writeFileSync(path.join(runDir, "stats", "warc.json"), JSON.stringify(stats, null, 2) + "\n");
      logger.log("info", "run_done", stats);
      io.stderr.write(summaryLine("run", result));
      io.stdout.write(`run: ${result.stats.pages} HTML pages from ${byDomain.size} domains; stats in ${path.relative(io.cwd, path.join(runDir, "stats", "warc.json")) || "."}\n`);
      if (io.signal?.aborted) return EXIT.interrupted;
      return result.stats.filesFailed > 0 ? EXIT.partial : EXIT.ok;
    } finally {
      await logger.close();
    }
  },
};
