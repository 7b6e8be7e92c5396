import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { nullLogger } from "../src/core/log.js";
import { main } from "../src/main.js";
import type { Plan } from "../src/plan/plan.js";
import type { WorkStore } from "../src/store/store.js";
import { RunStores, fileNoOf, openTaskStore } from "../src/store/stores.js";
import type { Page } from "../src/warc/page.js";
import { WarcStats, readPages } from "../src/warc/pages.js";
import { type WarcSource, localSource } from "../src/warc/source.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const FIXTURES = path.join(ROOT, "test", "fixtures");
export const fixture = (...p: string[]): string => path.join(FIXTURES, ...p);

/** Temporary folders made by `tmpDir`, removed after each test file (test/setup.ts). */
export const tmpDirs: string[] = [];

export function tmpDir(prefix = "mc-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}

/** Runs the CLI in-process and captures its output. */
export async function runCli(argv: string[], cwd = ROOT, env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  err.on("data", (c: Buffer) => errChunks.push(c));
  const code = await main(argv, { stdout: out, stderr: err, cwd, env });
  return { code, stdout: Buffer.concat(chunks).toString("utf8"), stderr: Buffer.concat(errChunks).toString("utf8") };
}

export const MAX = 8 << 20;

/** Reads every page of a source, with its stats. */
export async function readAll(source: WarcSource | string, maxRecordBytes = MAX): Promise<{ pages: Page[]; stats: WarcStats }> {
  const src = typeof source === "string" ? localSource(source) : source;
  const stats = new WarcStats();
  const pages: Page[] = [];
  for await (const p of readPages(src, { maxRecordBytes, logger: nullLogger }, stats)) pages.push(p);
  return { pages, stats };
}

/** A page without its source name, for comparing reads of the same bytes from different places. */
export function comparable(p: Page): Record<string, unknown> {
  const { warcFile: _w, body, ...rest } = p;
  return { ...rest, body: body.toString("base64") };
}

/**
 * A run split into `tasks` tasks, file f being task f's, whose stores `fill` writes (given the
 * task's store and whether a document id is that task's); its stores opened.
 */
export function partsRun(prefix: string, tasks: number, fill: (part: WorkStore, own: (id: number) => boolean) => void): RunStores {
  const dir = tmpDir(prefix);
  const plan: Plan = { format: 1, run_id: prefix, tasks, assignment: "modulo", created: "", files: Array.from({ length: tasks }, (_, f) => ({ name: `f${f}`, bytes: null, task: f })) };
  for (let t = 0; t < tasks; t++) {
    const part = openTaskStore(dir, plan, t);
    try {
      fill(part, (id) => fileNoOf(id) === t);
    } finally {
      part.close();
    }
  }
  return RunStores.open(dir, plan);
}
