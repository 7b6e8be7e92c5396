import fs from "node:fs";
import path from "node:path";
import { writeAtomic } from "../core/atomic.js";
import type { RunStores } from "../store/stores.js";
import { type ReportLimits, DEFAULT_LIMITS, reportData } from "./data.js";
import { renderReport } from "./report.js";

/** The export folder a run wrote to: the `out` its config.json records, else DIR/export. */
export function runExportDir(runDir: string): string {
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(runDir, "config.json"), "utf8")) as { out?: unknown };
    if (typeof cfg.out === "string" && cfg.out) return path.resolve(runDir, cfg.out);
  } catch {
    // no config.json, or not JSON: the default
  }
  return path.join(runDir, "export");
}

/**
 * The report `run` writes at its end (DIR/reports/report.html): a view of the run, so one that
 * cannot be written is a warning (`warn`) and the run's result stands. Its path, or undefined.
 */
export function writeRunReport(stores: RunStores, runDir: string, exportDir: string, warn: (message: string) => void): string | undefined {
  const file = path.join(runDir, "reports", "report.html");
  try {
    writeReport(stores, runDir, file, exportDir);
    return file;
  } catch (err) {
    warn(`the report could not be written (${(err as Error).message})`);
    return undefined;
  }
}

/** Writes the run's report to `out` (atomically); returns its size in bytes. */
export function writeReport(stores: RunStores, runDir: string, out: string, exportDir = runExportDir(runDir), limits: ReportLimits = DEFAULT_LIMITS): number {
  const html = renderReport(reportData(stores, runDir, exportDir, limits));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  writeAtomic(out, html);
  return Buffer.byteLength(html);
}
