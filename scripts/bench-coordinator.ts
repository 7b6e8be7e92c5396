/**
 * The coordinator's CPU per page in a whole run split into tasks: `run --tasks N --workers W`
 * (round 1's crawl, up to 3 rounds with --auto-accept, clean and export) on crawls of two sizes cut
 * from one Common-Crawl-style WARC. The coordinator is the process that launches the tasks and
 * runs the reduces; its CPU is the serial part (the Amdahl bound for many cores and nodes; target
 * ≤ 0.1 ms a page). Part of it is fixed (start-up, seeds, reading models, the training files), so
 * besides CPU per page at each size it reports the marginal cost: the difference in CPU between
 * the two sizes per page added, by step, which is what a crawl of any size pays per page.
 *
 *   node dist/scripts/bench-coordinator.js FILE.warc.gz [--small 5000] [--large 20000] [--files 8] [--tasks 8] [--workers 2]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cliJson, flag, split } from "./split-crawl.js";

type Out = {
  crawl: { documents: number; seconds: number; coordinator_cpu_seconds: number };
  rounds: Array<{ round: number; selected: number; cpu: Record<string, number> }>;
  clean: { selected: number; kept: number } | null;
  export: { documents: number } | null;
  coordinator_cpu_seconds: number;
};


/** The coordinator's CPU seconds by part of the run: the crawl, each round step (summed over rounds), and the rest (clean, export, start-up). */
function parts(o: Out): Record<string, number> {
  const r: Record<string, number> = { crawl: o.crawl.coordinator_cpu_seconds };
  for (const x of o.rounds) for (const [k, v] of Object.entries(x.cpu)) r[`rounds: ${k}`] = (r[`rounds: ${k}`] ?? 0) + v;
  const counted = Object.values(r).reduce((a, b) => a + b, 0);
  r["clean, export, the rest"] = o.coordinator_cpu_seconds - counted;
  r.total = o.coordinator_cpu_seconds;
  return r;
}

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file || file.startsWith("--")) throw new Error("usage: bench-coordinator FILE.warc.gz [--small 5000] [--large 20000] [--files 8] [--tasks 8] [--workers 2]");
  const sizes = [flag(argv, "small", 5000), flag(argv, "large", 20000)];
  const nFiles = flag(argv, "files", 8);
  const tasks = flag(argv, "tasks", nFiles);
  const workers = flag(argv, "workers", os.availableParallelism());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bench-coord-"));
  try {
    const results: Array<{ docs: number; parts: Record<string, number> }> = [];
    for (const size of sizes) {
      const dir = path.join(tmp, String(size));
      fs.mkdirSync(dir);
      const files = await split(file, dir, nFiles, size);
      const { seconds, out } = await cliJson<Out>("run", ["--run", path.join(dir, "run"), "--sources", files.join(","), "--tasks", String(tasks), "--workers", String(workers), "--auto-accept", "0.5", "--max-rounds", "3"]);
      const docs = out.crawl.documents;
      const p = parts(out);
      results.push({ docs, parts: p });
      console.log(
        `${size} pages read into ${nFiles} files: ${docs} stored; ${out.rounds.length} rounds (selected ${out.rounds.map((r) => r.selected).join(", ")}), clean kept ${out.clean?.kept ?? "-"} of ${out.clean?.selected ?? "-"}, exported ${out.export?.documents ?? "-"}; ${seconds.toFixed(0)} s; ` +
          `coordinator CPU ${p.total!.toFixed(2)} s = ${((1000 * p.total!) / docs).toFixed(3)} ms/page`,
      );
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
    const added = b.docs - a.docs;
    console.log(`\n| coordinator CPU | ${a.docs} pages | ${b.docs} pages | per page added (${added}) |\n|---|---|---|---|`);
    for (const k of new Set([...Object.keys(a.parts), ...Object.keys(b.parts)])) {
      const x = a.parts[k] ?? 0;
      const y = b.parts[k] ?? 0;
      console.log(`| ${k} | ${x.toFixed(2)} s | ${y.toFixed(2)} s | ${((1000 * (y - x)) / added).toFixed(4)} ms |`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
