/**
 * The chaos suite: what an independent campaign throws at mathcorpus, run from the project.
 *
 *   npm run chaos                       # the full campaign (about 10-15 min on 2 cores)
 *   node dist/scripts/chaos.js --quick  # a few of each (about 2 min)
 *   node dist/scripts/chaos.js --seed 7 --warc 700 --html 400 --kill 20 --disk 5 --usage 60 --json out.json
 *
 * Sections: WARC mutants (bit flips, truncation, wrong Content-Length, junk, versions, bare LF, a
 * 200 MB record, in three layouts), hostile HTML through the worker pool, the HTTP fault modes of a
 * loopback server, SIGKILL at random points of multi-file rounds (one process and 3 tasks), a disk
 * that fills up at each step of a round and during an export (real tmpfs in a private mount
 * namespace), and bad usage. It prints one table: per section, inputs tried, crashes (exceptions,
 * exit 1, stack traces), hangs, silent losses (something missing with nothing counted or said),
 * and of the inputs with a known right answer, how many gave it exactly. Exit 0 only when there
 * is no crash, hang, silent loss or difference.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DISK_POINTS, diskPoints } from "./chaos/disk.js";
import type { Row } from "./chaos/common.js";
import { htmlMutants } from "./chaos/html.js";
import { httpModes } from "./chaos/http.js";
import { killPoints, splitSample } from "./chaos/kill.js";
import { usageFuzz } from "./chaos/usage.js";
import { warcMutants } from "./chaos/warc.js";

interface Args {
  seed: number;
  warc: number;
  html: number;
  kill: number;
  disk: number;
  usage: number;
  huge: boolean;
  http: boolean;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const quick = argv.includes("--quick");
  const a: Args = quick
    ? { seed: 1, warc: 48, html: 28, kill: 2, disk: DISK_POINTS.length, usage: 25, huge: false, http: true }
    : { seed: 1, warc: 720, html: 420, kill: 20, disk: 2 * DISK_POINTS.length, usage: 80, huge: true, http: true };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    if (f === "--quick") continue;
    if (f === "--no-huge") a.huge = false;
    else if (f === "--no-http") a.http = false;
    else if (f === "--json") a.json = argv[++i];
    else if (["--seed", "--warc", "--html", "--kill", "--disk", "--usage"].includes(f)) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${f} expects a whole number, got ${argv[i]}`);
      (a as unknown as Record<string, number>)[f.slice(2)] = v;
    } else if (f === "-h" || f === "--help") {
      process.stdout.write(`Usage: node dist/scripts/chaos.js [--quick] [--seed N] [--warc N] [--html N] [--kill N] [--disk N] [--usage N] [--no-huge] [--no-http] [--json FILE]\n`);
      process.exit(0);
    } else throw new Error(`unknown option ${f}`);
  }
  return a;
}

function table(rows: Array<Row & { seconds: number }>): string {
  const lines = ["| section | tried | crashed | hung | silent loss | identical | seconds |", "|---|---:|---:|---:|---:|---:|---:|"];
  for (const r of rows) lines.push(`| ${r.category} | ${r.tried} | ${r.crashed} | ${r.hung} | ${r.lost} | ${r.compared ? `${r.identical}/${r.compared}` : "–"} | ${r.seconds.toFixed(0)} |`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mc-chaos-"));
  const rows: Array<Row & { seconds: number; extra?: unknown }> = [];
  const section = async (name: string, fn: () => Promise<Row>) => {
    process.stderr.write(`chaos: ${name}…\n`);
    const t0 = Date.now();
    const res = await fn();
    const { category, tried, crashed, hung, lost, identical, compared, notes, ...extra } = res as Row & Record<string, unknown>;
    const r = { category, tried, crashed, hung, lost, identical, compared, notes, seconds: (Date.now() - t0) / 1000, extra };
    rows.push(r);
    process.stderr.write(`chaos: ${name}: ${tried} tried, ${crashed} crashed, ${hung} hung, ${lost} silent losses, ${compared ? `${identical}/${compared} identical` : "nothing compared"} (${r.seconds.toFixed(0)} s)\n`);
    for (const n of notes) process.stderr.write(`  - ${n}\n`);
  };
  try {
    const t0 = Date.now();
    if (a.warc) await section("WARC mutants", () => warcMutants(a.warc, a.seed, { huge: a.huge, tmp }));
    if (a.html) await section("HTML mutants", () => htmlMutants(a.html, a.seed, 30_000));
    if (a.http) await section("HTTP fault modes", () => httpModes());
    const crawl = splitSample(path.join(tmp, "crawl"), 4);
    if (a.kill) await section("SIGKILL points", () => killPoints(a.kill, a.seed, tmp, crawl));
    if (a.disk) await section("disk full", () => diskPoints(a.disk, a.seed, tmp, crawl.join(",")));
    if (a.usage) await section("bad usage", () => usageFuzz(a.usage, a.seed, tmp, path.join(tmp, "ref-0")));
    const total = (Date.now() - t0) / 1000;
    process.stdout.write(`${table(rows)}\n\nseed ${a.seed}; ${total.toFixed(0)} s in all\n`);
    if (a.json) fs.writeFileSync(a.json, JSON.stringify({ seed: a.seed, seconds: total, sections: rows }, null, 2) + "\n");
    const bad = rows.some((r) => r.crashed + r.hung + r.lost > 0 || r.identical < r.compared);
    process.exitCode = bad ? 1 : 0;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
