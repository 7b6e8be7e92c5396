import path from "node:path";
import { cleanRound } from "../clean/clean.js";
import { EXIT, UsageError } from "../core/errors.js";
import { type Io, writeLine } from "../core/io.js";
import { fileLogger } from "../core/log.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { Progress } from "../core/progress.js";
import { benchmarkIndex, benchmarkOptionSpecs } from "../config/clean.js";
import { DEFAULT_MINHASH } from "../dedup/minhash.js";
import { openRunLocked } from "../store/lock.js";
import type { Command } from "./command.js";

const specs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory" },
  round: { type: "number", arg: "N", help: "the round whose selection is cleaned (default: the last finished one)" },
  ...benchmarkOptionSpecs,
  bands: { type: "number", default: DEFAULT_MINHASH.bands, arg: "N", help: "MinHash LSH bands" },
  rows: { type: "number", default: DEFAULT_MINHASH.rows, arg: "N", help: "MinHash rows per band (bands × rows hashes; 14 × 8 ≈ 0.7–0.8 Jaccard)" },
  shingle: { type: "number", default: DEFAULT_MINHASH.shingle, arg: "N", help: "words per shingle (CJK: characters)" },
  json: { type: "boolean", default: false, help: "print every removed page as a JSON line (url, reason, duplicate of / benchmark, item, matched span), then the summary" },
} as const satisfies OptionSpecs;

const details = `Removes from a round's selection: exact duplicates (normalised text; the best-scoring copy is
kept, ties: the earliest), near duplicates (MinHash LSH clusters; the best-scoring page is kept)
and pages sharing a 10-gram with a benchmark question or answer (texts of 3–9 tokens matched
whole). Every decision is stored in the run's work store (table clean) for export.`;

export const command: Command = {
  name: "clean",
  summary: "dedup (exact, MinHash near-dup) and benchmark decontamination of a round's selection",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("clean", specs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("clean", "--run DIR [options]", "Deduplicate and decontaminate a round's selection.", specs, details));
      return EXIT.ok;
    }
    const o = cl.options;
    for (const [flag, v] of [["bands", o.bands], ["rows", o.rows], ["shingle", o.shingle]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${flag} expects a whole number ≥ 1, got ${v}`);
    }
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "clean", ...o }, null, 2) + "\n");
      return EXIT.ok;
    }
    const runDir = path.resolve(io.cwd, o.run);
    const { index, names } = await benchmarkIndex(o, io.cwd, "clean");
    const run = openRunLocked(runDir, "clean");
    const store = run.store;
    const logger = fileLogger(path.join(runDir, "logs", "clean.jsonl"));
    try {
      const round = store.finishedRound(o.run, o.round, "to clean");
      const progress = new Progress(io.stderr);
      let s: Awaited<ReturnType<typeof cleanRound>>;
      try {
        s = await cleanRound(run.stores, round, index, { bands: o.bands, rows: o.rows, shingle: o.shingle, seed: DEFAULT_MINHASH.seed }, logger, {
          onProgress: (text) => progress.update(() => `clean: ${text}`),
          ...(io.signal ? { signal: io.signal } : {}),
        });
      } finally {
        progress.done();
      }
      if (o.json) {
        // the marks are in the run's store, the pages in its parts
        const docs = new Map(run.stores.parts.map((p) => [p, p.db.prepare("SELECT url FROM documents WHERE id = ?").pluck()]));
        const urlOf = (id: number | null) => (id === null ? null : (docs.get(run.stores.partOf(id))!.get(id) as string));
        const marks = store.db.prepare("SELECT doc_id, status AS reason, dup_of, cluster, benchmark, item, field, span FROM clean WHERE round = ? AND status != 'kept' ORDER BY status, doc_id").all(round) as Array<Record<string, unknown> & { doc_id: number; dup_of: number | null }>;
        for (const { doc_id, dup_of, ...m } of marks) {
          const r = { url: urlOf(doc_id), reason: m.reason, duplicate_of: urlOf(dup_of), cluster: m.cluster, benchmark: m.benchmark, item: m.item, field: m.field, span: m.span };
          await writeLine(io.stdout, JSON.stringify(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null))));
        }
        await writeLine(io.stdout, JSON.stringify({ summary: { ...s, benchmarks: names.length, index: index.counts } }));
      }
      io.stderr.write(`clean: round ${round}: ${s.kept} of ${s.selected} selected pages kept; removed: ${Object.entries(s.removed).map(([k, v]) => `${k}=${v}`).join(" ") || "none"}; ${s.clusters} near-duplicate clusters; ${names.length} benchmarks (${index.counts.items} items)\n`);
      return EXIT.ok;
    } catch (err) {
      logger.abandon();
      throw err;
    } finally {
      run.close();
      await logger.close();
    }
  },
};
