/**
 * Round benchmark: the whole first round (crawl, extract, store, train, score, select) on a
 * Common-Crawl-style WARC, and a later round's re-scoring, beside bare gunzip of the same file
 * in the same run; peak RSS of the process tree (sampled from /proc every 250 ms). The floor is
 * node:zlib's gunzip in-process (the stricter one); the `gunzip` command's time is printed
 * beside it, since GNU gzip inflates about three times slower. It also times reading the WARC
 * into pages alone, to show how much of a 5x budget is left for extraction.
 *
 *   node dist/scripts/bench-round.js FILE.warc.gz [--modes=full,pool]
 *
 * `--modes`: full (every page extracted), pool (--candidate-pool), or both side by side. For
 * the pool it also gives the bytes of a page outside it: a copy of the store holding only those
 * rows, with the documents table's indexes, vacuumed.
 *
 * Make FILE with make-cc-warc.py … --pages 20000 --math-share 0.02 --vary-urls.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import Database from "better-sqlite3";
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

/**
 * Bytes per small row of a candidate-pool store: a copy holding only the rows outside the pool
 * (documents with their indexes, nothing else), vacuumed, divided by its rows.
 */
function smallRowBytes(store: string): { rows: number; bytes: number } {
  const copy = `${store}.small`;
  fs.rmSync(copy, { force: true });
  const db = new Database(store, { readonly: true });
  db.prepare("VACUUM INTO ?").run(copy);
  db.close();
  const c = new Database(copy);
  c.exec("DELETE FROM documents WHERE extracted <> 0");
  for (const t of c.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('documents', 'meta')").pluck().all() as string[]) c.exec(`DELETE FROM "${t}"`);
  const rows = c.prepare("SELECT count(*) FROM documents").pluck().get() as number;
  const empty = () => {
    c.exec("VACUUM");
    return fs.statSync(copy).size;
  };
  const withRows = empty();
  c.exec("DELETE FROM documents");
  const none = empty();
  c.close();
  fs.rmSync(copy, { force: true });
  return { rows, bytes: rows ? (withRows - none) / rows : 0 };
}

type R = { documents: number; selected: number; seconds: number; timings: Record<string, number> };
type Crawl = { seconds: number; documents: number; outside_pool?: number; main_thread_seconds: number; first_pass_seconds?: number; first_pass_main_thread_seconds?: number; pages: number };

/** Round 1 and round 2 of one mode, timed; the store's size after round 1. */
async function rounds(file: string, mode: string): Promise<{ first: Awaited<ReturnType<typeof timed>>; second: Awaited<ReturnType<typeof timed>>; r1: R; r2: R; crawl: Crawl; storeBytes: number; small?: { rows: number; bytes: number } }> {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), `bench-round-${mode}-`));
  const extra = mode === "pool" ? ["--candidate-pool"] : [];
  const first = await timed(["round", "--run", run, "--sources", file, "--json", ...extra]);
  const j1 = JSON.parse(first.stdout) as { rounds: R[]; crawl: Crawl };
  const store = path.join(run, "work.sqlite");
  const storeBytes = fs.statSync(store).size;
  const small = mode === "pool" ? smallRowBytes(store) : undefined;
  const second = await timed(["round", "--run", run, "--json"]);
  const r2 = (JSON.parse(second.stdout) as { rounds: R[] }).rounds[0]!;
  fs.rmSync(run, { recursive: true, force: true });
  return { first, second, r1: j1.rounds[0]!, r2, crawl: j1.crawl, storeBytes, ...(small ? { small } : {}) };
}

async function main(argv: string[]): Promise<void> {
  const file = argv.find((a) => !a.startsWith("--"));
  const modes = (argv.find((a) => a.startsWith("--modes="))?.slice(8) ?? "full").split(",");
  if (!file) throw new Error("usage: bench-round FILE.warc.gz [--modes=full,pool]");
  const floor = await gunzip(file);
  const command = await gunzipCommand(file);
  const read = await reading(file);
  console.log(`file ${path.basename(file)} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB, ${read.pages} HTML pages); ${os.availableParallelism()} cores; gunzip ${floor.toFixed(2)} s (node:zlib, in-process)${command === null ? "" : `; the gunzip command ${command.toFixed(2)} s`}`);
  console.log(`reading the WARC into pages alone (inflate, records, HTTP; no extraction): ${read.seconds.toFixed(1)} s = ${(read.seconds / floor).toFixed(1)}x gunzip`);
  for (const mode of modes) {
    const { first, second, r1, r2, crawl, storeBytes, small } = await rounds(file, mode);
    const pages = r1.documents;
    const p1 = read.pages / first.seconds;
    const t = (r: R) => Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ");
    console.log(`[${mode}] round 1 (crawl, extract, store, train, score, select): ${first.seconds.toFixed(1)} s = ${(first.seconds / floor).toFixed(1)}x gunzip; ${p1.toFixed(0)} pages/s (${(p1 / os.availableParallelism()).toFixed(0)} per core); ${r1.selected} selected; peak RSS ${first.peakMb.toFixed(0)} MB`);
    const gate = crawl.first_pass_seconds;
    const gateMain = crawl.first_pass_main_thread_seconds;
    console.log(
      `[${mode}]   crawl ${crawl.seconds.toFixed(1)} s = ${(crawl.seconds / floor).toFixed(1)}x gunzip (target <= 5x)` +
        (gate !== undefined ? `, of which the gate (sample, training) ${gate.toFixed(1)} s; without it ${(crawl.seconds - gate).toFixed(1)} s = ${((crawl.seconds - gate) / floor).toFixed(1)}x` : "") +
        `; main thread busy ${crawl.main_thread_seconds.toFixed(1)} s = ${((1000 * crawl.main_thread_seconds) / crawl.pages).toFixed(3)} ms per page` +
        // the gate's share of the main thread (the seeds' texts, the bar) is a cost per run, not per page
        (gateMain !== undefined ? `, of which the gate ${gateMain.toFixed(1)} s; without it ${((1000 * (crawl.main_thread_seconds - gateMain)) / crawl.pages).toFixed(3)} ms per page` : "") +
        ` (target <= 0.1); after the crawl: ${t(r1)} s`,
    );
    console.log(
      `[${mode}]   store after round 1: ${(storeBytes / 2 ** 20).toFixed(1)} MB = ${(storeBytes / read.pages / 1024).toFixed(2)} KB per page` +
        (small ? `; ${crawl.outside_pool ?? 0} pages outside the pool, ${small.rows} still small rows after round 1's sample, ${small.bytes.toFixed(0)} bytes each with their indexes (target <= 1 KB)` : ""),
    );
    const scored = r2.timings.score!;
    console.log(`[${mode}] round 2 re-scoring: ${scored.toFixed(2)} s for the stored pool; ${(read.pages / scored).toFixed(0)} crawl pages/s = ${(read.pages / scored / p1).toFixed(1)}x round 1's pages/s (target >= 20x); whole invocation ${second.seconds.toFixed(1)} s (${t(r2)} s); peak RSS ${second.peakMb.toFixed(0)} MB`);
    void pages;
  }
}

await main(process.argv.slice(2));
