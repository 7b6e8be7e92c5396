/**
 * WARC streaming benchmark: pages/s, MB/s and peak RSS of `readPages` on a Common-Crawl-style
 * WARC, beside bare node:zlib gunzip of the same file (the floor), each in its own process so
 * peak RSS is its own. Also streams a file holding one huge record, to show memory stays flat.
 *
 *   node dist/scripts/bench-warc.js FILE.warc.gz [--huge-mb 512] [--repeat 2]
 *
 * Make FILE with: python3 ../shared/tools/make-cc-warc.py FILE.warc.gz <jsonl...> --pages 20000 --vary-urls
 */
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { nullLogger } from "../src/core/log.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

interface Result {
  mode: string;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
  pages: number;
  peakRssMb: number;
}

async function floor(file: string): Promise<Result> {
  const peak = rssSampler();
  const t = performance.now();
  let out = 0;
  const s = fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: FLOOR_CHUNK }));
  for await (const c of s) out += (c as Buffer).length;
  return { mode: "gunzip", seconds: (performance.now() - t) / 1000, bytesIn: fs.statSync(file).size, bytesOut: out, pages: 0, peakRssMb: peak() };
}

async function pages(file: string): Promise<Result> {
  const peak = rssSampler();
  const t = performance.now();
  const stats = new WarcStats();
  let out = 0;
  for await (const p of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, stats)) out += p.body.length;
  if (stats.errors() > 0) throw new Error(`input errors: ${JSON.stringify(stats.dropped.toJSON())}`);
  return { mode: "pages", seconds: (performance.now() - t) / 1000, bytesIn: stats.bytesIn, bytesOut: out, pages: stats.pages, peakRssMb: peak() };
}

function inChild(mode: string, file: string): Result {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [self, "--child", mode, file], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out) as Result;
}

/** A WARC with one response record of `mb` MiB of (compressible) text, then a small one. */
async function hugeWarc(mb: number, dir: string): Promise<string> {
  const file = path.join(dir, `huge-${mb}.warc.gz`);
  const prefix = "<html><body><p>";
  const bodyLen = prefix.length + (mb << 20);
  const http = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${bodyLen}\r\n\r\n`;
  const head = `WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://huge.example/\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: ${http.length + bodyLen}\r\n\r\n`;
  const out = fs.createWriteStream(file);
  const gz = zlib.createGzip();
  gz.pipe(out, { end: false });
  const write = async (b: Buffer | string) => {
    if (!gz.write(b)) await once(gz, "drain");
  };
  await write(head + http + prefix);
  let seed = 7;
  for (let m = 0; m < mb; m++) {
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < block.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      block[i] = 97 + ((seed >>> 16) % 26);
    }
    await write(block);
  }
  gz.end("\r\n\r\n");
  await once(gz, "end");
  const small = `WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://after.example/\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: 62\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>after</html>\r\n\r\n`;
  out.end(zlib.gzipSync(small));
  await once(out, "finish");
  return file;
}

/** Peak RSS sampled in-process (getrusage's maxrss can carry the parent's peak across exec). */
function rssSampler(): () => number {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  return () => {
    clearInterval(t);
    return Math.max(peak, process.memoryUsage().rss) / (1024 * 1024);
  };
}

const mb = (n: number) => n / 1e6;
/** The fastest output chunk size for bare gunzip measured here (1 MiB; the 16 KiB default is ~2x slower). */
const FLOOR_CHUNK = Number(process.env.FLOOR_CHUNK ?? 1024 * 1024);

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "--child") {
    const [, mode, file] = argv;
    const r = mode === "gunzip" ? await floor(file!) : await pages(file!);
    process.stdout.write(JSON.stringify(r));
    return;
  }
  const file = argv.find((a) => !a.startsWith("--"));
  if (!file) throw new Error("usage: bench-warc FILE.warc.gz [--huge-mb N] [--repeat N]");
  const opt = (name: string, d: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const repeat = opt("--repeat", 2);
  const hugeMb = opt("--huge-mb", 512);
  console.log(`file: ${file} (${mb(fs.statSync(file).size).toFixed(0)} MB compressed); node ${process.version}; ${os.cpus().length} cores`);
  const runs: Array<[Result, Result]> = [];
  for (let i = 0; i < repeat; i++) runs.push([inChild("gunzip", file), inChild("pages", file)]);
  const best = (k: 0 | 1) => runs.map((r) => r[k]).sort((a, b) => a.seconds - b.seconds)[0]!;
  if (repeat > 0) {
  const f = best(0);
  const p = best(1);
  console.log(`gunzip floor : ${f.seconds.toFixed(2)} s  ${mb(f.bytesIn / f.seconds).toFixed(1)} MB/s in  ${mb(f.bytesOut / f.seconds).toFixed(1)} MB/s out  peak RSS ${f.peakRssMb.toFixed(0)} MB`);
  console.log(`pages        : ${p.seconds.toFixed(2)} s  ${mb(p.bytesIn / p.seconds).toFixed(1)} MB/s in  ${(p.pages / p.seconds).toFixed(0)} pages/s (${p.pages} pages)  peak RSS ${p.peakRssMb.toFixed(0)} MB`);
  console.log(`ratio        : ${(f.seconds / p.seconds).toFixed(2)}x the gunzip floor's throughput (target >= 0.5)`);
  }
  if (hugeMb > 0) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-warc-"));
    const huge = await hugeWarc(hugeMb, dir);
    const h = inChild("pages", huge);
    console.log(`huge record  : ${hugeMb} MiB in one record: ${h.seconds.toFixed(2)} s, ${h.pages} pages, peak RSS ${h.peakRssMb.toFixed(0)} MB`);
    if (!process.env.KEEP_HUGE) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${huge}`);
  }
}

await main(process.argv.slice(2));
