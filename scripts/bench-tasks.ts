/**
 * Tasks benchmark: round 1 of one run as one process (`--tasks 1`, today's path) and as N tasks on
 * the local executor (`--tasks N --workers W`), side by side on the same crawl of several files,
 * alternating; the floor is node:zlib's gunzip of those files in the same run. It reports wall
 * time of the crawl and of the whole round 1, and the coordinator's CPU per page: with tasks, what
 * the process that launches them spends on each page (the crawl's reduce, then the round's
 * sampling, scoring and selection), the Amdahl bound for many cores and nodes (target ≤ 0.1 ms).
 *
 *   node dist/scripts/bench-tasks.js FILE.warc.gz [--files 8] [--tasks 8] [--workers 2] [--repeat 2]
 *
 * FILE is one Common-Crawl-style WARC (make-cc-warc.py … --pages 20000 --math-share 0.02
 * --vary-urls); its response records are dealt into --files files (one gzip member each, as
 * Common Crawl writes them) in a temporary folder, so the crawl has several files of distinct URLs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cliJson, flag, gunzip, split } from "./split-crawl.js";

type Out = {
  crawl: { documents: number; seconds: number; coordinator_cpu_seconds: number };
  rounds: Array<{ documents: number; selected: number; timings: Record<string, number>; cpu: Record<string, number> }>;
  coordinator_cpu_seconds: number;
};


async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file || file.startsWith("--")) throw new Error("usage: bench-tasks FILE.warc.gz [--files 8] [--tasks 8] [--workers 2] [--repeat 2]");
  const nFiles = flag(argv, "files", 8);
  const tasks = flag(argv, "tasks", nFiles);
  const workers = flag(argv, "workers", os.availableParallelism());
  const repeat = flag(argv, "repeat", 2);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-tasks-"));
  try {
    const files = await split(file, tmp, nFiles);
    const floor = await gunzip(files);
    console.log(`${nFiles} files (${(files.reduce((a, f) => a + fs.statSync(f).size, 0) / 1e6).toFixed(0)} MB) from ${path.basename(file)}; ${os.availableParallelism()} cores; gunzip of all ${floor.toFixed(2)} s (node:zlib)`);
    for (let r = 0; r < repeat; r++) {
      for (const t of r % 2 === 0 ? [1, tasks] : [tasks, 1]) {
        const run = path.join(tmp, `run-${r}-${t}`);
        const extra = t === 1 ? [] : ["--tasks", String(t), "--workers", String(workers)];
        const { seconds, out } = await cliJson<Out>("round", ["--run", run, "--sources", files.join(","), ...extra]);
        const docs = out.crawl.documents;
        const after = Object.values(out.rounds[0]!.timings).reduce((a, b) => a + b, 0);
        const afterCpu = out.coordinator_cpu_seconds - out.crawl.coordinator_cpu_seconds;
        // scoring is the per-page part of what follows the crawl in the coordinator (the rest: start-up, seeds, model reads, training file)
        const scoreCpu = out.rounds[0]!.cpu.score ?? 0;
        console.log(
          `${t === 1 ? "one process      " : `${t} tasks, ${workers} workers`}: round 1 ${seconds.toFixed(1)} s = ${(seconds / floor).toFixed(1)}x gunzip; crawl ${out.crawl.seconds.toFixed(1)} s (${(docs / out.crawl.seconds).toFixed(0)} pages/s, ${docs} stored); ` +
            `after the crawl ${after.toFixed(1)} s; coordinator CPU: crawl ${out.crawl.coordinator_cpu_seconds.toFixed(1)} s = ${((1000 * out.crawl.coordinator_cpu_seconds) / docs).toFixed(3)} ms/page, rest of the invocation ${afterCpu.toFixed(1)} s = ${((1000 * afterCpu) / docs).toFixed(3)} ms/page, of which scoring ${scoreCpu.toFixed(1)} s = ${((1000 * scoreCpu) / docs).toFixed(3)} ms/page; selected ${out.rounds[0]!.selected}`,
        );
        fs.rmSync(run, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
