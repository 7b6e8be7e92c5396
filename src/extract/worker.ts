import { type ExtractOutcome, extractPage } from "./extract.js";
import type { ExtractTask } from "./pool.js";

/**
 * Worker-thread entry (piscina): one page in, its outcome out. The start of the page is noted
 * in the shared clock table, where the main thread's watchdog reads how long it has run.
 */
export default function run(task: ExtractTask): ExtractOutcome {
  const { clock, slot } = task;
  if (clock && slot !== undefined) clock[slot] = Date.now();
  try {
    return extractPage(task.input, task.opts);
  } finally {
    if (clock && slot !== undefined) clock[slot] = 0;
  }
}
