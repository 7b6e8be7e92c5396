/**
 * Round benchmark: the whole first round (crawl, extract, store, train, score, select) on a
 * Common-Crawl-style WARC, and a later round's re-scoring, beside bare gunzip of the same file
 * in the same run; peak RSS of the process tree (sampled from /proc every 250 ms).
 *
 *   node dist/scripts/bench-round.js FILE.warc.gz
 *
 * Make FILE with make-cc-warc.py … --pages 20000 --math-share 0.02 --vary-urls.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";

function treeRss(pid: number): number {
  let total = 0;
  const visit = (p: number) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
      const kids = fs.readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      kids.forEach(visit);
    } catch {
      /* process gone */
    }
  };
  visit(pid);
  return total;
}

function timed(args: string[]): Promise<{ seconds: number; peakMb: number; stdout: string }> {
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "cli.js");
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let peak = 0;
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setInterval(() => (peak = Math.max(peak, treeRss(p.pid!))), 250);
    p.on("exit", (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`round exited ${code}`));
      else resolve({ seconds: (performance.now() - t) / 1000, peakMb: peak / 2 ** 20, stdout: out });
    });
  });
}

async function gunzip(file: string): Promise<number> {
  const t = performance.now();
  for await (const _ of fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: 1 << 20 }))) void _;
  return (performance.now() - t) / 1000;
}

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file) throw new Error("usage: bench-round FILE.warc.gz");
  const run = fs.mkdtempSync(path.join(os.tmpdir(), "bench-round-"));
  const floor = await gunzip(file);
  const first = await timed(["round", "--run", run, "--sources", file, "--json"]);
  const r1 = (JSON.parse(first.stdout) as { rounds: Array<{ documents: number; selected: number; seconds: number }> }).rounds[0]!;
  const second = await timed(["round", "--run", run, "--json"]);
  const r2 = (JSON.parse(second.stdout) as { rounds: Array<{ documents: number; seconds: number }> }).rounds[0]!;
  const pages = r1.documents;
  console.log(`file ${path.basename(file)} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB); ${os.availableParallelism()} cores; gunzip ${floor.toFixed(2)} s`);
  console.log(`round 1 (crawl, extract, store, train, score, select): ${first.seconds.toFixed(1)} s = ${(first.seconds / floor).toFixed(1)}x gunzip (target <= 5x); ${(pages / first.seconds).toFixed(0)} stored pages/s; ${r1.selected} selected; peak RSS ${first.peakMb.toFixed(0)} MB`);
  console.log(`round 2 (train + re-score stored text): ${second.seconds.toFixed(1)} s (of which the round itself ${r2.seconds.toFixed(1)} s); ${(pages / second.seconds).toFixed(0)} pages/s = ${(first.seconds / second.seconds).toFixed(1)}x round 1's pages/s (target >= 20x); peak RSS ${second.peakMb.toFixed(0)} MB`);
  fs.rmSync(run, { recursive: true, force: true });
}

await main(process.argv.slice(2));
