import { checkFolderPath } from "../core/outputs.js";
import path from "node:path";
import { EXIT, UsageError } from "../core/errors.js";
import type { Io } from "../core/io.js";
import { type OptionSpecs, parseCommandLine, renderHelp } from "../core/options.js";
import { shownPath } from "../core/paths.js";
import { Progress, formatDuration } from "../core/progress.js";
import { tokenCounter } from "../core/tokens.js";
import { exportRound } from "../export/export.js";
import { openRunLocked } from "../store/lock.js";
import type { Command } from "./command.js";

export const exportSpecs = {
  run: { type: "string", default: "runs/sample", arg: "DIR", help: "run directory" },
  out: { type: "string", arg: "DIR", help: "output folder for shards and manifest.json (default: DIR/export)" },
  round: { type: "number", arg: "N", help: "the cleaned round to export (default: the last finished one)" },
  shardTokens: { type: "number", default: 100_000_000, arg: "TOKENS", help: "about this many tokens per shard (of the run's --tokenizer, cl100k by default)" },
  shardDocs: { type: "number", default: 0, arg: "N", help: "this many documents per shard instead (0: by tokens)" },
  seed: { type: "number", default: 1, arg: "N", help: "seed of the document permutation (sha256 of \"<seed>:<id>\" order)" },
  pageSize: { type: "number", default: 65536, arg: "BYTES", help: "SQLite page size of the shards (64 KiB measured fastest for sequential reads)" },
  force: { type: "boolean", default: false, help: "overwrite a non-empty --out that is not an unfinished export of this run" },
} as const satisfies OptionSpecs;

/** An `exportRound` onShard that shows "export: shard 3/40  ETA 2m" on a terminal. */
export function shardProgress(progress: Progress): (i: number, n: number) => void {
  const started = Date.now();
  return (i, n) => {
    const s = (Date.now() - started) / 1000;
    progress.update(() => `export: shard ${i}/${n}  ETA ${formatDuration((s * (n - i)) / i)}`);
  };
}

export const command: Command = {
  name: "export",
  summary: "write a cleaned round as token-balanced SQLite shards with a manifest",
  async run(argv: string[], io: Io): Promise<number> {
    const cl = parseCommandLine("export", exportSpecs, argv, io.cwd);
    if (cl.help) {
      io.stdout.write(renderHelp("export", "--run DIR [--out DIR] [options]", "Write a cleaned round as SQLite shards with manifest.json (checked by `mathcorpus verify`).", exportSpecs, "Shards are written under temporary names and renamed when complete; the manifest is written last.\nRerunning an interrupted export completes it."));
      return EXIT.ok;
    }
    const o = cl.options;
    if (!(o.shardTokens > 0) || !Number.isInteger(o.shardDocs) || o.shardDocs < 0) throw new UsageError("--shard-tokens must be > 0 and --shard-docs a whole number ≥ 0");
    if (![4096, 8192, 16384, 32768, 65536].includes(o.pageSize)) throw new UsageError(`--page-size expects 4096…65536 (a power of two), got ${o.pageSize}`);
    const runDir = path.resolve(io.cwd, o.run);
    const out = path.resolve(io.cwd, o.out ?? path.join(o.run, "export"));
    if (cl.dryRun) {
      io.stdout.write(JSON.stringify({ command: "export", ...o, out }, null, 2) + "\n");
      return EXIT.ok;
    }
    checkFolderPath("--out", out, o.out ?? path.join(o.run, "export"));
    const run = openRunLocked(runDir, "export");
    const store = run.store;
    try {
      const round = store.finishedRound(o.run, o.round, "to export");
      const progress = new Progress(io.stderr);
      let m;
      try {
        m = exportRound(run.stores, round, runDir, out, { ...o, force: o.force, countTokens: await tokenCounter(store.tokenizer()) }, shardProgress(progress));
      } finally {
        progress.done();
      }
      io.stderr.write(`export: round ${round}: ${m.documents} documents, ${m.tokens} tokens in ${m.shards.length} shard${m.shards.length === 1 ? "" : "s"} → ${shownPath(io.cwd, out)}\n`);
      return EXIT.ok;
    } finally {
      run.close();
    }
  },
};
