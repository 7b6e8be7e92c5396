import { type ExtractInput, type ExtractOptions, type ExtractOutcome, extractPage } from "./extract.js";

/** Worker-thread entry (piscina): one page in, its outcome out. */
export default function run(task: { input: ExtractInput; opts: ExtractOptions }): ExtractOutcome {
  return extractPage(task.input, task.opts);
}
