import { LinearModel, type SharedLinearModel } from "./linear.js";

export interface ScoreTask {
  model: SharedLinearModel;
  /** Stored feature hashes per page, or null where the page is scored from its text. */
  features: Array<Uint32Array | null>;
  texts: Array<string | null>;
}

/** Worker-thread entry (piscina): P(math) of a batch of pages with a shared linear model. */
export default function run(task: ScoreTask): Float64Array {
  const m = LinearModel.fromShared(task.model);
  const out = new Float64Array(task.features.length);
  for (let i = 0; i < out.length; i++) {
    const f = task.features[i];
    out[i] = f ? m.scoreHashes(f) : m.scoreText(task.texts[i] ?? "");
  }
  return out;
}
