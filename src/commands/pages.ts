import { tsvLine } from "../core/terminal.js";
import { writeAtomic } from "../core/atomic.js";
import { checkOutputFile } from "../core/outputs.js";
import path from "node:path";
import { EXIT, UsageError } from "../core/errors.js";
import { type Io, writeLine } from "../core/io.js";
import { type Logger, fileLogger, nullLogger } from "../core/log.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { warcOptionSpecs } from "../config/warc.js";
import type { Page } from "../warc/page.js";
import type { Command } from "./command.js";
import { readWarcSources, summaryLine } from "./warcrun.js";

const specs = {
  jsonl: { type: "boolean", default: false, help: "print one JSON object per page instead of tab-separated columns" },
  stats: { type: "string", arg: "FILE", help: "write the counts (pages, records, drops by reason, first issues) as JSON to FILE" },
  log: { type: "string", arg: "FILE", help: "append JSON-lines logs (every input problem with file and offset) to FILE" },
  ...warcOptionSpecs,
} as const satisfies OptionSpecs;

const details = `Sources: local .warc / .warc.gz files or folders of them, http(s) URLs, Common Crawl
crawl ids (CC-MAIN-2024-22, resolved through crawl-data/<id>/warc.paths.gz at --cc-base-url),
and *.paths(.gz) listings. Only response records with an HTML payload are listed; every
other record is counted under a reason, shown in the summary on stderr.

Columns (tab-separated): url, warc file, offset, length, offset kind, status, content type, truncated.
offset/length is the byte range that one HTTP Range request fetches back (offset kind
"member": its gzip member; "plain": uncompressed WARC; "decompressed": inside a
whole-file gzip, positions in the decompressed stream).`;

function line(p: Page, jsonl: boolean): string {
  if (jsonl) {
    return JSON.stringify({
      url: p.url,
      host: p.host,
      domain: p.domain,
      warc_file: p.warcFile,
      offset: p.offset,
      length: p.length,
      offset_kind: p.offsetKind,
      date: p.date,
      status: p.status,
      content_type: p.contentType,
      identified_type: p.identifiedType ?? null,
      bytes: p.body.length,
      truncated: p.truncated,
      truncated_reason: p.truncatedReason ?? null,
    });
  }
  return tsvLine([p.url, p.warcFile, p.offset, p.length, p.offsetKind, p.status, p.contentType || "-", p.truncated ? "truncated" : "-"]);
}

export const command: Command = {
  name: "pages",
  summary: "list the HTML pages inside WARC sources",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("pages", specs, argv, io.cwd, true);
    if (cl.help) {
      io.stdout.write(renderHelp("pages", "SOURCE... [options]", "List the HTML pages inside WARC files, URLs or Common Crawl crawls.", specs, details));
      return EXIT.ok;
    }
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "pages", sources: cl.positionals, ...cl.options }, null, 2) + "\n");
      return EXIT.ok;
    }
    if (cl.positionals.length === 0) throw new UsageError("pages: name at least one SOURCE (see mathcorpus pages --help)");
    const o = cl.options;
    if (o.stats) checkOutputFile("--stats", path.resolve(io.cwd, o.stats), o.stats);
    if (o.log) checkOutputFile("--log", path.resolve(io.cwd, o.log), o.log);
    const logger: Logger = o.log ? fileLogger(path.resolve(io.cwd, o.log)) : nullLogger;
    try {
      const result = await readWarcSources(cl.positionals, o, io, logger, (page) => writeLine(io.stdout, line(page, o.jsonl)));
      if (o.stats) writeAtomic(path.resolve(io.cwd, o.stats), JSON.stringify({ seconds: result.seconds, ...result.stats.toJSON() }, null, 2) + "\n");
      logger.log("info", "summary", { seconds: result.seconds, ...result.stats.toJSON() });
      io.stderr.write(summaryLine("pages", result));
      if (io.signal?.aborted) return EXIT.interrupted;
      return result.stats.filesFailed > 0 ? EXIT.partial : EXIT.ok;
    } catch (err) {
      logger.abandon();
      throw err;
    } finally {
      await logger.close();
    }
  },
};
