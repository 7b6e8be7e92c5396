import { UsageError } from "../core/errors.js";
import { normalizePrefix } from "../dedup/url.js";
import type { WorkStore } from "../store/store.js";

/**
 * Recording prefix decisions, as `domains --accept/--reject/--annotations` and the review page
 * record them: one row per prefix in `annotations` (the latest decision wins), with who made it,
 * when, the round it was made on and a note. Decisions apply from the next round.
 */

export type Decision = "accept" | "reject";

export interface PrefixDecision {
  prefix: string;
  decision: Decision;
  note?: string;
}

/**
 * `text` in the form domain discovery lists prefixes (`host/`, `host/seg/`, `host/seg/seg/`; a URL
 * or a prefix without its trailing slash is taken too), or a UsageError.
 */
export function checkPrefix(text: string): string {
  const p = normalizePrefix(text);
  if (!p || !/^[^/\s]+\/([^/\s]+\/){0,2}$/.test(p)) throw new UsageError(`prefix ${JSON.stringify(text)}: expected host/ or host/segment/ or host/segment/segment/ (or such a URL)`);
  return p;
}

/** Records `decisions` (prefixes already checked) by `who`, now, on `round`, in one transaction; returns the time recorded. */
export function recordDecisions(store: WorkStore, decisions: PrefixDecision[], who: string, round: number): string {
  const upsert = store.db.prepare(
    "INSERT INTO annotations (prefix, decision, who, at, round, note) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(prefix) DO UPDATE SET decision = excluded.decision, who = excluded.who, at = excluded.at, round = excluded.round, note = excluded.note",
  );
  const at = new Date().toISOString();
  store.db.transaction(() => {
    for (const d of decisions) upsert.run(d.prefix, d.decision, who, at, round, d.note || null);
  })();
  return at;
}
