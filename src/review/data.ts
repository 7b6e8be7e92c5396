import { type PageView, type PrefixRow, mixId, pageOf } from "../report/data.js";
import type { RunStores } from "../store/stores.js";

/**
 * What the review page lists: the math-related hosts of a round with their URL prefixes, most
 * consequential first, and sample pages under each prefix. A prefix's consequence is how many
 * pages accepting it would make seeds (its pages the round did not select): undecided prefixes
 * come first, then by that count, then by selected share.
 */

/** A prefix with its counts and the decision on it (as the report lists it). */
export type ReviewPrefix = PrefixRow;

export interface ReviewHost {
  host: string;
  pages: number;
  selected: number;
  share: number;
  prefixes: ReviewPrefix[];
}

const consequence = (p: ReviewPrefix) => p.pages - p.selected;
const byConsequence = (a: ReviewPrefix, b: ReviewPrefix) => Number(a.decision !== null) - Number(b.decision !== null) || consequence(b) - consequence(a) || b.share - a.share || (a.prefix < b.prefix ? -1 : 1);

/** The round's math-related hosts with their prefixes, ordered for review; `offset`/`limit` page through hosts. */
export function reviewHosts(stores: RunStores, round: number, offset: number, limit: number): { hosts: ReviewHost[]; total: number; undecided: number } {
  const db = stores.coord.db;
  const hosts = db.prepare("SELECT host, pages, selected, share FROM domain_stats WHERE round = ? AND math_related = 1").all(round) as Array<Omit<ReviewHost, "prefixes">>;
  const prefixes = db.prepare("SELECT p.host, p.prefix, p.depth, p.pages, p.selected, p.share, a.decision, a.who, a.at, a.note FROM prefix_stats p LEFT JOIN annotations a ON a.prefix = p.prefix WHERE p.round = ?").all(round) as Array<ReviewPrefix & { host: string }>;
  const byHost = new Map<string, ReviewPrefix[]>();
  for (const { host, ...p } of prefixes) {
    const list = byHost.get(host) ?? [];
    list.push(p);
    byHost.set(host, list);
  }
  const all = hosts.map((h) => ({ ...h, prefixes: (byHost.get(h.host) ?? []).sort(byConsequence) }));
  // a host ranks by its most consequential prefix
  all.sort((a, b) => (a.prefixes[0] && b.prefixes[0] ? byConsequence(a.prefixes[0], b.prefixes[0]) : a.prefixes.length ? -1 : 1) || (a.host < b.host ? -1 : 1));
  const undecided = prefixes.filter((p) => p.decision === null).length;
  return { hosts: all.slice(offset, offset + limit), total: all.length, undecided };
}

/**
 * Sample pages under `prefix` in `round`: up to `unselected` of the pages accepting it would
 * promote, and up to `selected` of those the round selected; each chosen by a fixed hash of its id.
 */
export function prefixSamples(stores: RunStores, round: number, prefix: string, unselected: number, selected: number): PageView[] {
  const host = prefix.slice(0, prefix.indexOf("/"));
  const rows: Array<{ id: number; score: number | null; sel: number }> = [];
  for (const p of stores.parts) {
    rows.push(
      ...(p.db
        .prepare(
          `SELECT d.id, s.score, EXISTS (SELECT 1 FROM selections x WHERE x.round = ? AND x.doc_id = d.id) AS sel
           FROM documents d LEFT JOIN scores s ON s.round = ? AND s.doc_id = d.id
           WHERE d.host = ? AND substr(d.host || d.path, 1, length(?)) = ? AND d.id NOT IN (SELECT doc_id FROM copies)`,
        )
        .all(round, round, host, prefix, prefix) as Array<{ id: number; score: number | null; sel: number }>),
    );
  }
  const pick = (sel: number, k: number) =>
    rows
      .filter((r) => r.sel === sel)
      .sort((a, b) => mixId(a.id) - mixId(b.id) || a.id - b.id)
      .slice(0, k);
  return [...pick(0, unselected), ...pick(1, selected)].flatMap((r) => {
    const d = pageOf(stores, r.id);
    return d ? [{ ...d, score: r.score, selected: r.sel === 1 }] : [];
  });
}
