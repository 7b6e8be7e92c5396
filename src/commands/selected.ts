import { tsvLine } from "../core/terminal.js";
import path from "node:path";
import { EXIT } from "../core/errors.js";
import { type Io, writeLine } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { RunStores } from "../store/stores.js";
import { mergeSorted } from "../core/merge.js";
import type { Command } from "./command.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory" },
  round: { type: "number", arg: "N", help: "round (default: the last finished one)" },
  jsonl: { type: "boolean", default: false, help: "one JSON object per page (url, domain, host, score, first_round); default: tab-separated" },
} as const satisfies OptionSpecs;

export const command: Command = {
  name: "selected",
  summary: "list a round's selected pages",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("selected", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("selected", "--run DIR [--round N] [--jsonl]", "List a round's selected pages with score and the round each was first selected in.", specs));
      return EXIT.ok;
    }
    const o = cl.options;
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "selected", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    const stores = RunStores.openRun(path.resolve(io.cwd, o.run));
    try {
      const round = stores.coord.finishedRound(o.run, o.round, "yet");
      type Row = { id: number; url: string; domain: string; host: string; score: number; first_round: number };
      const rows = mergeSorted(
        stores.parts.map(
          (p) =>
            p.db
              .prepare(
                `SELECT d.id, d.url, d.domain, d.host, s.score, (SELECT min(x.round) FROM selections x WHERE x.doc_id = d.id) AS first_round
                 FROM selections sel JOIN documents d ON d.id = sel.doc_id JOIN scores s ON s.doc_id = d.id AND s.round = sel.round
                 WHERE sel.round = ? ORDER BY s.score DESC, d.id`,
              )
              .iterate(round) as Iterable<Row>,
        ),
        (a, b) => a.score > b.score || (a.score === b.score && a.id < b.id),
      );
      let n = 0;
      for (const { id: _id, ...r } of rows) {
        n++;
        await writeLine(io.stdout, o.jsonl ? JSON.stringify({ ...r, score: +r.score.toFixed(6) }) : tsvLine([r.url, r.domain, r.score.toFixed(6), r.first_round]));
      }
      io.stderr.write(`selected: ${n} pages in round ${round}\n`);
      return EXIT.ok;
    } finally {
      stores.close();
    }
  },
};
