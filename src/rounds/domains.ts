import { urlPrefixes } from "../dedup/url.js";
import type { WorkStore } from "../store/store.js";
import type { RunStores } from "../store/stores.js";
import { notCopy } from "./copies.js";
import type { RoundConfig } from "./round.js";

/*
 * The reduces of a round after its selection: per-host and per-prefix counts summed over the
 * run's parts into its own store, annotation by rule, promotion in each part, convergence counts.
 */

/**
 * Domain discovery: hosts with more than domainShare of their pages selected, and their path
 * prefixes; a text stored under several URLs counts once (exact copies are left out, copies.ts). Each part counts its pages per host (and per prefix of the math-related hosts); the
 * counts are summed into the run's store.
 */
export function discoverDomains(stores: RunStores, round: number, cfg: RoundConfig): number {
  const coord = stores.coord;
  coord.clearRound(round, ["domain_stats", "prefix_stats"]);
  const perHost = new Map<string, { pages: number; selected: number }>();
  for (const p of stores.parts) {
    const rows = p.db.prepare(`SELECT d.host, count(*) AS pages, count(s.doc_id) AS selected FROM documents d LEFT JOIN selections s ON s.doc_id = d.id AND s.round = ? WHERE ${notCopy("d")} AND d.extracted >= 0 GROUP BY d.host`).all(round) as Array<{ host: string; pages: number; selected: number }>;
    for (const r of rows) {
      const c = perHost.get(r.host) ?? { pages: 0, selected: 0 };
      c.pages += r.pages;
      c.selected += r.selected;
      perHost.set(r.host, c);
    }
  }
  const hosts: string[] = [];
  const insHost = coord.db.prepare("INSERT INTO domain_stats (round, host, pages, selected, share, math_related) VALUES (?, ?, ?, ?, ?, ?)");
  coord.db.transaction(() => {
    for (const [host, c] of perHost) {
      const share = c.selected / c.pages;
      const related = share > cfg.domainShare && c.pages >= cfg.minDomainPages;
      if (related) hosts.push(host);
      insHost.run(round, host, c.pages, c.selected, share, related ? 1 : 0);
    }
  })();
  const counts = new Map<string, { host: string; depth: number; pages: number; selected: number }>();
  for (const p of stores.parts) {
    const pages = p.db.prepare(`SELECT d.path, (s.doc_id IS NOT NULL) AS sel FROM documents d LEFT JOIN selections s ON s.doc_id = d.id AND s.round = ? WHERE d.host = ? AND ${notCopy("d")} AND d.extracted >= 0`);
    for (const host of hosts) {
      for (const row of pages.all(round, host) as Array<{ path: string; sel: number }>) {
        for (const { prefix, depth } of urlPrefixes(host, row.path)) {
          const c = counts.get(prefix) ?? { host, depth, pages: 0, selected: 0 };
          c.pages++;
          c.selected += row.sel;
          counts.set(prefix, c);
        }
      }
    }
  }
  const ins = coord.db.prepare("INSERT INTO prefix_stats (round, prefix, host, depth, pages, selected, share) VALUES (?, ?, ?, ?, ?, ?, ?)");
  coord.db.transaction(() => {
    for (const [prefix, c] of counts) ins.run(round, prefix, c.host, c.depth, c.pages, c.selected, c.selected / c.pages);
  })();
  return hosts.length;
}

/** Unattended annotation: accept prefixes of math-related hosts with a selected share ≥ autoAccept. */
export function autoAccept(store: WorkStore, round: number, share: number): number {
  const rows = store.db.prepare("SELECT prefix, share FROM prefix_stats WHERE round = ? AND share >= ?").all(round, share) as Array<{ prefix: string; share: number }>;
  const ins = store.db.prepare("INSERT OR IGNORE INTO annotations (prefix, decision, who, at, round, note) VALUES (?, 'accept', 'auto', ?, ?, ?)");
  let n = 0;
  for (const r of rows) n += ins.run(r.prefix, new Date().toISOString(), round, `auto-accept: selected share ${r.share.toFixed(3)} >= ${share}`).changes;
  return n;
}

/** Pages under accepted prefixes that this round did not select become seeds for the next (in each part); not exact copies. */
export function promote(stores: RunStores, round: number): number {
  const accepted = stores.coord.db.prepare("SELECT prefix FROM annotations WHERE decision = 'accept'").all() as Array<{ prefix: string }>;
  let n = 0;
  for (const p of stores.parts) {
    const ins = p.db.prepare("INSERT OR IGNORE INTO promoted (doc_id, round, prefix, reason) VALUES (?, ?, ?, 'under an accepted prefix, not selected')");
    const docs = p.db.prepare(`SELECT d.id, d.host, d.path FROM documents d LEFT JOIN selections s ON s.doc_id = d.id AND s.round = ? WHERE s.doc_id IS NULL AND d.host = ? AND ${notCopy("d")} AND d.extracted >= 0`);
    p.db.transaction(() => {
      for (const { prefix } of accepted) {
        const host = prefix.slice(0, prefix.indexOf("/"));
        for (const d of docs.all(round, host) as Array<{ id: number; host: string; path: string }>) {
          if ((d.host + d.path).startsWith(prefix)) n += ins.run(d.id, round, prefix).changes;
        }
      }
    })();
  }
  return n;
}

export function convergence(stores: RunStores, round: number): { share: number | null; newPages: number | null } {
  if (round < 2) return { share: null, newPages: null };
  const total = stores.sum("SELECT count(*) FROM selections WHERE round = ?", round);
  const kept = stores.sum("SELECT count(*) FROM selections a JOIN selections b ON b.doc_id = a.doc_id AND b.round = ? WHERE a.round = ?", round - 1, round);
  const fresh = stores.sum("SELECT count(*) FROM selections a WHERE a.round = ? AND NOT EXISTS (SELECT 1 FROM selections b WHERE b.doc_id = a.doc_id AND b.round < ?)", round, round);
  return { share: total ? kept / total : 1, newPages: fresh };
}
