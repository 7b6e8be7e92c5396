import { type ExtractOutcome, extractPage } from "./extract.js";
import type { ExtractTask } from "./pool.js";
import { firstPass } from "./firstpass.js";
import type { CheapTask } from "./pool.js";
import { type PlaceResult, type PlaceTask, readPlace } from "./place.js";
import { type RangeResult, type RangeTask, readRange } from "./ranges.js";

/**
 * Worker-thread entry (piscina): one page in, its outcome out; or a range of a local file, or
 * one page by its place (place.ts), read and extracted here. The start of each page is noted
 * in the shared clock table, where the main thread's watchdog reads how long it has run.
 */
export default function run(task: ExtractTask | RangeTask | PlaceTask | CheapTask): ExtractOutcome | Promise<RangeResult> | Promise<PlaceResult> | string {
  if ("kind" in task) return task.kind === "range" ? readRange(task) : task.kind === "place" ? readPlace(task) : cheapText(task);
  const { clock, slot } = task;
  if (clock && slot !== undefined) clock[slot] = Date.now();
  try {
    return extractPage(task.input, task.opts);
  } finally {
    if (clock && slot !== undefined) clock[slot] = 0;
  }
}

/** A page's first-pass text only (CheapTask). */
function cheapText(t: CheapTask): string {
  return firstPass(typeof t.body === "string" ? Buffer.from(t.body) : t.body, t.contentType, undefined, t.maxText, false).text;
}
