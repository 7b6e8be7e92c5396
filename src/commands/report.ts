import path from "node:path";
import { EXIT, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { checkOutputFile } from "../core/outputs.js";
import { shownPath } from "../core/paths.js";
import { DEFAULT_LIMITS } from "../report/data.js";
import { runExportDir, writeReport } from "../report/write.js";
import { RunStores } from "../store/stores.js";
import type { Command } from "./command.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory" },
  out: { type: "string", arg: "FILE.html", help: "where to write the report (default: DIR/reports/report.html)" },
  export: { type: "string", arg: "DIR", help: "the export folder whose manifest.json to summarise (default: the run's --out, else DIR/export)" },
  samples: { type: "number", default: DEFAULT_LIMITS.samples, arg: "K", help: "sample pages shown per score bin (0: none)" },
  hosts: { type: "number", default: DEFAULT_LIMITS.hosts, arg: "N", help: "math-related hosts listed, most selected first (the rest are counted)" },
  matches: { type: "number", default: DEFAULT_LIMITS.matches, arg: "N", help: "benchmark matches listed (the rest are counted)" },
} as const satisfies OptionSpecs;

const details = `The report is one HTML file that needs no network and runs no script: the funnel of pages
by step and drop reason; per round, score histograms of held-out seeds, held-out negatives and the
crawl with the cut-off, the PR curve, pages and tokens selected, and convergence; math-related hosts
with their prefixes and the decisions on them (who, when); benchmark matches with the matching
span; the export's manifest in brief; and sample pages per score bin with their mathematics
rendered (KaTeX). \`mathcorpus run\` writes it at its end too.`;

export const command: Command = {
  name: "report",
  summary: "write a run's self-contained HTML report (funnel, score histograms, PR curves, hosts, matches, samples)",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("report", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("report", "--run DIR [--out FILE.html]", "Write a run's report as one self-contained HTML file.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    for (const [flag, v] of [["--samples", o.samples], ["--hosts", o.hosts], ["--matches", o.matches]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new UsageError(`${flag} expects a whole number ≥ 0, got ${v}`);
    }
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "report", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    const runDir = path.resolve(io.cwd, o.run);
    const out = o.out ? path.resolve(io.cwd, o.out) : path.join(runDir, "reports", "report.html");
    if (o.out) checkOutputFile("--out", out, o.out);
    const stores = RunStores.openRun(runDir);
    try {
      const bytes = writeReport(stores, runDir, out, o.export ? path.resolve(io.cwd, o.export) : runExportDir(runDir), { ...DEFAULT_LIMITS, samples: o.samples, hosts: o.hosts, matches: o.matches });
      io.stdout.write(`${shownPath(io.cwd, out)}\n`);
      io.stderr.write(`report: ${(bytes / 1048576).toFixed(2)} MB; open it in a browser (it needs no network)\n`);
      return EXIT.ok;
    } finally {
      stores.close();
    }
  },
};
