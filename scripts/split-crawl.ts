/**
 * For the benchmarks of runs split into tasks: one Common-Crawl-style WARC dealt into several files
 * (one gzip member per record, as Common Crawl writes them), the floor they are measured against,
 * and the CLI run as a child process.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { nullLogger } from "../src/core/log.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { localSource } from "../src/warc/source.js";

/** The response records of `file` (its first `pages` HTML pages, if given) dealt into `files` files in `dir`: record i → file i mod files. */
export async function split(file: string, dir: string, files: number, pages = Infinity): Promise<string[]> {
  const fd = fs.openSync(file, "r");
  const outs = Array.from({ length: files }, (_, i) => path.join(dir, `part-${i}.warc.gz`));
  const fds = outs.map((o) => fs.openSync(o, "w"));
  let i = 0;
  for await (const p of readPages(localSource(file), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) {
    if (i >= pages) break;
    if (p.offsetKind !== "member") throw new Error(`${file}: not one gzip member per record`);
    const buf = Buffer.alloc(p.length);
    fs.readSync(fd, buf, 0, p.length, p.offset);
    fs.writeSync(fds[i++ % files]!, buf);
  }
  fs.closeSync(fd);
  fds.forEach((f) => fs.closeSync(f));
  return outs;
}

/** Seconds node:zlib takes to gunzip `files`, one after another. */
export async function gunzip(files: string[]): Promise<number> {
  const t = performance.now();
  for (const f of files) for await (const _ of fs.createReadStream(f, { highWaterMark: 1 << 20 }).pipe(zlib.createGunzip({ chunkSize: 1 << 20 }))) void _;
  return (performance.now() - t) / 1000;
}

/** A numeric --flag of argv, else `dflt`. */
export function flag(argv: string[], name: string, dflt: number): number {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
}

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "cli.js");

/** `mathcorpus COMMAND ARGS --json` in a child process: its wall time and its parsed JSON (stderr passes through). */
export function cliJson<T>(command: string, args: string[]): Promise<{ seconds: number; out: T }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn(process.execPath, [CLI, command, ...args, "--json"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("exit", (code) => (code === 0 ? resolve({ seconds: (performance.now() - t) / 1000, out: JSON.parse(out) as T }) : reject(new Error(`${command} exited ${code}`))));
  });
}
