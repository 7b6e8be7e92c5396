import fs from "node:fs";
import path from "node:path";
import { mixId } from "../core/hash.js";
import type { Manifest } from "../export/verify.js";
import type { RunStores } from "../store/stores.js";

/**
 * What a run's report shows, read from its stores (work.sqlite and the task stores), its
 * reports/round-N.eval.json files and its export's manifest.json. Every query is bounded: tables
 * that grow with the crawl (hosts, matches, sample pages) are cut to a limit and say how many
 * more there are; sample pages are chosen by one pass over the round's scores.
 */

export interface Drop {
  reason: string;
  n: number;
}

export interface RoundReport {
  round: number;
  selected: number;
  selectedTokens: number;
  cutoff: number | null;
  cutoffRule: string;
  cutoffProbability: number | null;
  heldOutRecall: number | null;
  rocAuc: number | null;
  promoted: number;
  acceptedPrefixes: number;
  mathRelatedHosts: number;
  convergence: number | null;
  newPages: number | null;
  training: { lines: number; epoch: number; lr: number; loss: number | null } | null;
  scores: { positives: number[]; negatives: number[] } | null;
  histograms: { bins: number; positives: number[]; negatives: number[]; crawl: number[] } | null;
}

export interface PrefixRow {
  prefix: string;
  depth: number;
  pages: number;
  selected: number;
  share: number;
  decision: string | null;
  who: string | null;
  at: string | null;
  note: string | null;
}

export interface HostRow {
  host: string;
  pages: number;
  selected: number;
  share: number;
  prefixes: PrefixRow[];
}

export interface PageView {
  id: number;
  url: string;
  title: string;
  text: string;
  score: number | null;
  selected: boolean;
}

export interface Match {
  benchmark: string;
  item: string;
  field: string;
  span: string;
  page: { id: number; url: string; title: string };
}

export interface ReportData {
  run: string;
  generated: string;
  files: number;
  funnel: Array<{ label: string; pages: number; dropped?: Drop[] }>;
  notPages: Drop[];
  rounds: RoundReport[];
  round: number | null;
  hosts: HostRow[];
  hostsTotal: number;
  clean: { round: number; counts: Record<string, number> } | null;
  matches: Match[];
  matchesTotal: number;
  manifest: (Manifest & { dir: string }) | null;
  samples: { round: number; bins: Array<{ lo: number; hi: number; count: number; pages: PageView[] }> } | null;
}

export interface ReportLimits {
  hosts: number;
  matches: number;
  /** Sample pages per score bin. */
  samples: number;
  /** Score bins for the sample pages. */
  bins: number;
}

export const DEFAULT_LIMITS: ReportLimits = { hosts: 200, matches: 500, samples: 3, bins: 10 };

/** Sums rows of (key, n) over the parts. */
function sumRows(stores: RunStores, sql: string, ...params: unknown[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of stores.parts) for (const r of p.db.prepare(sql).all(...params) as Array<{ k: string; n: number }>) m.set(r.k, (m.get(r.k) ?? 0) + r.n);
  return m;
}

const drops = (m: Map<string, number>): Drop[] => [...m].map(([reason, n]) => ({ reason, n })).sort((a, b) => b.n - a.n || (a.reason < b.reason ? -1 : 1));

/** What a page outside the candidate pool shows instead of its text (it has none stored). */
export const OUTSIDE_TEXT = "(not extracted: outside the candidate pool, below the first-pass bar and without math markup)";
const DROPPED_TEXT = "(read again and dropped by the extraction)";

/** A document's url, title and text from whichever part holds it (undefined if none does). */
export function pageOf(stores: RunStores, id: number): { id: number; url: string; title: string; text: string } | undefined {
  const d = stores.partOf(id).db.prepare("SELECT id, url, title, text, extracted FROM documents WHERE id = ?").get(id) as { id: number; url: string; title: string; text: string; extracted: number } | undefined;
  if (!d) return undefined;
  const { extracted, ...page } = d;
  return extracted === 1 ? page : { ...page, text: extracted === 0 ? OUTSIDE_TEXT : DROPPED_TEXT };
}

/** `a` comes before `b` in the mixed order. */
const before = (a: { h: number; id: number }, b: { h: number; id: number }) => a.h < b.h || (a.h === b.h && a.id < b.id);

function roundReports(stores: RunStores, runDir: string): RoundReport[] {
  const rows = stores.coord.db.prepare("SELECT round, cutoff, cutoff_rule, selected, selected_tokens, summary FROM rounds WHERE step = 'done' ORDER BY round").all() as Array<{
    round: number;
    cutoff: number | null;
    cutoff_rule: string | null;
    selected: number | null;
    selected_tokens: number | null;
    summary: string | null;
  }>;
  return rows.map((r) => {
    const s = (r.summary ? JSON.parse(r.summary) : {}) as Record<string, unknown>;
    const evalFile = path.join(runDir, "reports", `round-${r.round}.eval.json`);
    const ev = fs.existsSync(evalFile) ? (JSON.parse(fs.readFileSync(evalFile, "utf8")) as Record<string, unknown>) : {};
    const ho = (s.held_out ?? {}) as { roc_auc?: number };
    const n = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
    return {
      round: r.round,
      selected: r.selected ?? 0,
      selectedTokens: r.selected_tokens ?? 0,
      cutoff: r.cutoff,
      cutoffRule: r.cutoff_rule ?? "",
      cutoffProbability: n(s.cutoff_probability),
      heldOutRecall: n(s.held_out_recall),
      rocAuc: n(ho.roc_auc ?? ev.roc_auc),
      promoted: n(s.promoted) ?? 0,
      acceptedPrefixes: n(s.accepted_prefixes) ?? 0,
      mathRelatedHosts: n(s.math_related_hosts) ?? 0,
      convergence: n(s.convergence_share),
      newPages: n(s.new_pages),
      training: (s.training as RoundReport["training"]) ?? null,
      scores: (ev.scores as RoundReport["scores"]) ?? null,
      histograms: (ev.histograms as RoundReport["histograms"]) ?? null,
    };
  });
}

/** A round's prefixes with the decision on each (`PrefixRow`); the caller adds WHERE/ORDER BY on `p` and `a`. */
export const PREFIX_ROWS = "SELECT p.prefix, p.depth, p.pages, p.selected, p.share, a.decision, a.who, a.at, a.note FROM prefix_stats p LEFT JOIN annotations a ON a.prefix = p.prefix";

/** Math-related hosts of `round` (most selected first) with their prefixes and the decisions on them. */
export function hostsOf(stores: RunStores, round: number, limit: number): { hosts: HostRow[]; total: number } {
  const db = stores.coord.db;
  const total = db.prepare("SELECT count(*) FROM domain_stats WHERE round = ? AND math_related = 1").pluck().get(round) as number;
  const hosts = db.prepare("SELECT host, pages, selected, share FROM domain_stats WHERE round = ? AND math_related = 1 ORDER BY selected DESC, host LIMIT ?").all(round, limit) as Array<Omit<HostRow, "prefixes">>;
  const prefixes = db.prepare(`${PREFIX_ROWS} WHERE p.round = ? AND p.host = ? ORDER BY p.depth, p.pages DESC, p.prefix`);
  return { hosts: hosts.map((h) => ({ ...h, prefixes: prefixes.all(round, h.host) as PrefixRow[] })), total };
}

/**
 * Up to `k` pages per score bin of `round` (bins of equal width over 0–1), chosen by a fixed hash
 * of the id: one pass over the round's scores, keeping the k lowest hashes per bin.
 */
function samplePages(stores: RunStores, round: number, k: number, bins: number): NonNullable<ReportData["samples"]> {
  const counts = new Array<number>(bins).fill(0);
  const keep: Array<Array<{ h: number; id: number; score: number }>> = Array.from({ length: bins }, () => []);
  for (const p of stores.parts) {
    const it = p.db.prepare("SELECT doc_id, score FROM scores WHERE round = ? AND doc_id NOT IN (SELECT doc_id FROM copies)").raw().iterate(round) as IterableIterator<[number, number]>;
    for (const [id, score] of it) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor(score * bins)));
      counts[b]!++;
      if (k <= 0) continue;
      const list = keep[b]!;
      const item = { h: mixId(id), id, score };
      if (list.length < k) list.push(item);
      else {
        let worst = 0;
        for (let i = 1; i < list.length; i++) if (before(list[worst]!, list[i]!)) worst = i;
        if (before(item, list[worst]!)) list[worst] = item;
      }
    }
  }
  return {
    round,
    bins: counts
      .map((count, b) => ({
        lo: b / bins,
        hi: (b + 1) / bins,
        count,
        pages: keep[b]!
          .sort((x, y) => y.score - x.score || x.id - y.id)
          .map(({ id, score }): PageView | undefined => {
            const part = stores.partOf(id);
            const d = pageOf(stores, id);
            const selected = part.db.prepare("SELECT 1 FROM selections WHERE round = ? AND doc_id = ?").get(round, id) !== undefined;
            return d ? { ...d, score, selected } : undefined;
          })
          .filter((x): x is PageView => x !== undefined),
      }))
      .reverse(),
  };
}

/** Everything the report shows for the run at `runDir` (stores open), its export read from `exportDir`. */
export function reportData(stores: RunStores, runDir: string, exportDir: string, limits: ReportLimits = DEFAULT_LIMITS): ReportData {
  const files = stores.sum("SELECT count(*) FROM files");
  const pages = stores.sum("SELECT coalesce(sum(pages), 0) FROM files");
  const extractDrops = drops(sumRows(stores, "SELECT reason AS k, sum(count) AS n FROM drops WHERE stage = 'extract' GROUP BY reason"));
  const notPages = drops(sumRows(stores, "SELECT reason AS k, sum(count) AS n FROM drops WHERE stage = 'warc' GROUP BY reason"));
  const docs = stores.docCount();
  const rounds = roundReports(stores, runDir);
  const last = rounds.at(-1);
  const funnel: ReportData["funnel"] = [
    { label: "HTML pages read", pages },
    { label: "documents stored", pages: docs, dropped: extractDrops },
  ];
  for (const r of rounds) funnel.push({ label: `selected in round ${r.round}`, pages: r.selected });
  let clean: ReportData["clean"] = null;
  let matches: Match[] = [];
  let matchesTotal = 0;
  const cleanedRound = last && stores.coord.isCleaned(last.round) ? last.round : null;
  if (cleanedRound !== null) {
    const counts = Object.fromEntries((stores.coord.db.prepare("SELECT status, count(*) AS n FROM clean WHERE round = ? GROUP BY status").all(cleanedRound) as Array<{ status: string; n: number }>).map((r) => [r.status, r.n]));
    clean = { round: cleanedRound, counts };
    funnel.push({
      label: `kept by clean`,
      pages: counts.kept ?? 0,
      dropped: Object.entries(counts)
        .filter(([s]) => s !== "kept")
        .map(([reason, n]) => ({ reason, n })),
    });
    matchesTotal = stores.coord.db.prepare("SELECT count(*) FROM clean WHERE round = ? AND status = 'contaminated'").pluck().get(cleanedRound) as number;
    const rows = stores.coord.db.prepare("SELECT doc_id, benchmark, item, field, span FROM clean WHERE round = ? AND status = 'contaminated' ORDER BY benchmark, doc_id LIMIT ?").all(cleanedRound, limits.matches) as Array<{ doc_id: number; benchmark: string | null; item: string | null; field: string | null; span: string | null }>;
    matches = rows.map((r) => {
      const d = pageOf(stores, r.doc_id);
      return { benchmark: r.benchmark ?? "", item: r.item ?? "", field: r.field ?? "", span: r.span ?? "", page: { id: r.doc_id, url: d?.url ?? "", title: d?.title ?? "" } };
    });
  }
  let manifest: ReportData["manifest"] = null;
  const mf = path.join(exportDir, "manifest.json");
  if (fs.existsSync(mf)) {
    try {
      manifest = { ...(JSON.parse(fs.readFileSync(mf, "utf8")) as Manifest), dir: exportDir };
      if (manifest.round === cleanedRound) funnel.push({ label: "exported", pages: manifest.documents });
    } catch {
      manifest = null;
    }
  }
  const { hosts, total } = last ? hostsOf(stores, last.round, limits.hosts) : { hosts: [], total: 0 };
  return {
    run: runDir,
    generated: new Date().toISOString(),
    files,
    funnel,
    notPages,
    rounds,
    round: last?.round ?? null,
    hosts,
    hostsTotal: total,
    clean,
    matches,
    matchesTotal,
    manifest,
    samples: last ? samplePages(stores, last.round, limits.samples, limits.bins) : null,
  };
}
