import { mixId } from "../core/hash.js";
import { PREFIX_ROWS, type PageView, type PrefixRow, pageOf } from "../report/data.js";
import { notCopy } from "../rounds/copies.js";
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

/** A prefix's place in the review order: undecided first, then by its consequence, selected share, name. */
const ORDER = "(a.decision IS NOT NULL), (p.pages - p.selected) DESC, p.share DESC, p.prefix";

/**
 * The round's math-related hosts with their prefixes, ordered for review (a host ranks by its most
 * consequential prefix); `offset`/`limit` page through hosts. Ranked in SQL, so a page of the
 * review costs the hosts it shows, not every prefix of the round.
 */
export function reviewHosts(stores: RunStores, round: number, offset: number, limit: number): { hosts: ReviewHost[]; total: number; undecided: number } {
  const db = stores.coord.db;
  const total = db.prepare("SELECT count(*) FROM domain_stats WHERE round = ? AND math_related = 1").pluck().get(round) as number;
  const undecided = db.prepare("SELECT count(*) FROM prefix_stats p LEFT JOIN annotations a ON a.prefix = p.prefix WHERE p.round = ? AND a.decision IS NULL").pluck().get(round) as number;
  const hosts = db
    .prepare(
      `WITH ranked AS MATERIALIZED (
         SELECT p.host, row_number() OVER (ORDER BY ${ORDER}) AS rank
         FROM prefix_stats p LEFT JOIN annotations a ON a.prefix = p.prefix WHERE p.round = ?),
       best AS MATERIALIZED (SELECT host, min(rank) AS rank FROM ranked GROUP BY host)
       SELECT d.host, d.pages, d.selected, d.share FROM domain_stats d LEFT JOIN best b ON b.host = d.host
       WHERE d.round = ? AND d.math_related = 1 ORDER BY b.rank IS NULL, b.rank, d.host LIMIT ? OFFSET ?`,
    )
    .all(round, round, limit, offset) as Array<Omit<ReviewHost, "prefixes">>;
  const prefixes = db.prepare(`${PREFIX_ROWS} WHERE p.round = ? AND p.host = ? ORDER BY ${ORDER}`);
  return { hosts: hosts.map((h) => ({ ...h, prefixes: prefixes.all(round, h.host) as ReviewPrefix[] })), total, undecided };
}

/**
 * Sample pages under `prefix` in `round`: up to `unselected` of the pages accepting it would
 * promote, and up to `selected` of those the round selected; each chosen by a fixed hash of its id.
 */
export function prefixSamples(stores: RunStores, round: number, prefix: string, unselected: number, selected: number): PageView[] {
  const host = prefix.slice(0, prefix.indexOf("/"));
  const rows: Array<{ id: number; score: number | null; sel: number; h: number }> = [];
  for (const p of stores.parts) {
    // the k first of each part in the mixed order; merged below (so the same for one part or many)
    p.db.function("mc_mix", { deterministic: true }, (id: unknown) => mixId(Number(id)));
    const q = p.db.prepare(
      `SELECT d.id, s.score, x.doc_id IS NOT NULL AS sel, mc_mix(d.id) AS h
       FROM documents d LEFT JOIN scores s ON s.round = ? AND s.doc_id = d.id LEFT JOIN selections x ON x.round = ? AND x.doc_id = d.id
       WHERE d.host = ? AND substr(d.host || d.path, 1, length(?)) = ? AND ${notCopy("d")} AND (x.doc_id IS NOT NULL) = ?
       ORDER BY h, d.id LIMIT ?`,
    );
    rows.push(...(q.all(round, round, host, prefix, prefix, 0, unselected) as typeof rows), ...(q.all(round, round, host, prefix, prefix, 1, selected) as typeof rows));
  }
  const pick = (sel: number, k: number) =>
    rows
      .filter((r) => r.sel === sel)
      .sort((a, b) => a.h - b.h || a.id - b.id)
      .slice(0, k);
  return [...pick(0, unselected), ...pick(1, selected)].flatMap((r) => {
    const d = pageOf(stores, r.id);
    return d ? [{ ...d, score: r.score, selected: r.sel === 1 }] : [];
  });
}
