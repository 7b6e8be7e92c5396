import type { WorkStore } from "../store/store.js";
import type { RoundSummary } from "./round.js";

/**
 * The convergence share of finished round `r` if it ends a run, else undefined. It ends it when
 * at least `stopShare` of its selection was selected in round r−1 and that says something: r
 * trained on more seeds than r−1 (r−1 promoted pages) or r promoted none (no later round can
 * differ). A round trained on the seeds of the round before selects the same pages whatever
 * comes next, so when it promoted pages itself (decisions recorded after r−1 apply at its end),
 * or decisions were recorded after it finished, the run goes on.
 */
export function convergedAt(store: WorkStore, r: number, stopShare: number): number | undefined {
  const summary = (n: number): Partial<RoundSummary> | undefined => {
    const row = store.round(n);
    return row?.step === "done" && row.summary ? (JSON.parse(row.summary) as Partial<RoundSummary>) : undefined;
  };
  const cur = summary(r);
  const share = cur?.convergence_share;
  if (typeof share !== "number" || share < stopShare) return undefined;
  const finished = store.round(r)?.finished_at;
  const decidedSince = finished ? (store.db.prepare("SELECT count(*) FROM annotations WHERE at > ?").pluck().get(finished) as number) : 0;
  if (decidedSince > 0) return undefined;
  if ((cur!.promoted ?? 0) === 0 || (summary(r - 1)?.promoted ?? 0) > 0) return share;
  return undefined;
}
