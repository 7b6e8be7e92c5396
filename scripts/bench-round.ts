/**
 * Round benchmark: the whole first round (crawl, extract, store, train, score, select) on a
 * Common-Crawl-style WARC, and a later round's re-scoring, beside bare gunzip of the same file
 * in the same run; peak RSS of the process tree (sampled from /proc every 250 ms). The floor is
 * node:zlib's gunzip in-process (the stricter one); the `gunzip` command's time is printed
 * beside it, since GNU gzip inflates about three times slower. It also times reading the WARC
 * into pages alone, to show how much of a 5x budget is left for extraction.
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
import { nullLogger } from "../src/core/log.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

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

/** Reading the WARC into pages in-process (inflate, records, HTTP; no extraction): seconds and pages. */
async function reading(file: string): Promise<{ seconds: number; pages: number }> {
  const t = performance.now();
  const stats = new WarcStats();
  for await (const _ of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, stats)) void _;
  return { seconds: (performance.now() - t) / 1000, pages: stats.pages };
}

/** The `gunzip -c FILE > /dev/null` command's seconds (GNU gzip inflates ~3× slower than node:zlib), or null without it. */
function gunzipCommand(file: string): Promise<number | null> {
  return new Promise((resolve) => {
    const t = performance.now();
    const out = fs.openSync("/dev/null", "w");
    const p = spawn("gunzip", ["-c", file], { stdio: ["ignore", out, "ignore"] });
    p.on("error", () => resolve(null));
    p.on("exit", (code) => {
      fs.closeSync(out);
      resolve(code === 0 ? (performance.now() - t) / 1000 : null);
    });
  });
}

async function main(argv: string[]): Promise<void> {
  const file = argv[0];
  if (!file) throw new Error("usage: bench-round FILE.warc.gz");
  const run = fs.mkdtempSync(path.join(os.tmpdir(), "bench-round-"));
  const floor = await gunzip(file);
  const command = await gunzipCommand(file);
  const read = await reading(file);
  type R = { documents: number; selected: number; seconds: number; timings: Record<string, number> };
  const first = await timed(["round", "--run", run, "--sources", file, "--json"]);
  const r1 = (JSON.parse(first.stdout) as { rounds: R[] }).rounds[0]!;
  const second = await timed(["round", "--run", run, "--json"]);
  const r2 = (JSON.parse(second.stdout) as { rounds: R[] }).rounds[0]!;
  const pages = r1.documents;
  const p1 = pages / first.seconds;
  const t = (r: R) => Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ");
  console.log(`file ${path.basename(file)} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB); ${os.availableParallelism()} cores; gunzip ${floor.toFixed(2)} s (node:zlib, in-process)${command === null ? "" : `; the gunzip command ${command.toFixed(2)} s`}`);
  console.log(`round 1 (crawl, extract, store, train, score, select): ${first.seconds.toFixed(1)} s = ${(first.seconds / floor).toFixed(1)}x gunzip (target <= 5x)${command === null ? "" : ` = ${(first.seconds / command).toFixed(1)}x the gunzip command`}; ${p1.toFixed(0)} stored pages/s; ${r1.selected} selected; after the crawl: ${t(r1)} s; peak RSS ${first.peakMb.toFixed(0)} MB`);
  // what the round spends before extracting a page: reading the WARC (on the main thread, which
  // it shares with storing) and the steps after the crawl; the rest of a 5x budget is what
  // extraction and storing may take
  const fixed = read.seconds + Object.values(r1.timings).reduce((a, b) => a + b, 0);
  const left = 5 * floor - fixed;
  console.log(
    `  fixed part: reading the WARC into pages alone ${read.seconds.toFixed(1)} s (${(read.seconds / floor).toFixed(1)}x gunzip, ${read.pages} pages) + the steps after the crawl = ${fixed.toFixed(1)} s = ${(fixed / floor).toFixed(1)}x gunzip; ` +
      `the 5x target leaves ${left.toFixed(1)} s to extract and store the pages: ${left > 0 ? `${((2 * left * 1000) / read.pages).toFixed(2)} ms of CPU per page on 2 cores` : "nothing"}`,
  );
  const rescore = pages / r2.timings.score!;
  console.log(`round 2 re-scoring (stored features of every page → scores): ${r2.timings.score!.toFixed(2)} s, ${rescore.toFixed(0)} pages/s = ${(rescore / p1).toFixed(1)}x round 1's pages/s (target >= 20x)`);
  console.log(`round 2 whole invocation (seeds, train, re-score, select): ${second.seconds.toFixed(1)} s (${t(r2)} s); ${(pages / second.seconds).toFixed(0)} pages/s = ${(first.seconds / second.seconds).toFixed(1)}x round 1's; peak RSS ${second.peakMb.toFixed(0)} MB`);
  fs.rmSync(run, { recursive: true, force: true });
}

await main(process.argv.slice(2));
