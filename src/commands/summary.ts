import { safeField } from "../core/terminal.js";
import type { CleanSummary } from "../clean/clean.js";
import type { Manifest } from "../export/verify.js";
import type { RoundSummary } from "../rounds/round.js";
import type { RunStores } from "../store/stores.js";

/** What `round` and `run` print: one line per round, and `run`'s closing table. */

export function summaryLine(s: RoundSummary): string {
  return (
    `round ${s.round}: ${s.documents} documents; model trained on ${s.positives.train} positives (${s.positives.promoted} promoted) and ${s.negatives.train} negatives; ` +
    `cut-off ${s.cutoff.toFixed(4)} (${s.cutoff_rule}); selected ${s.selected} pages, ${s.selected_tokens} tokens; held-out recall ${s.held_out_recall.toFixed(4)}; ` +
    `math-related hosts ${s.math_related_hosts}; prefixes accepted ${s.accepted_prefixes}; promoted ${s.promoted}` +
    (s.convergence_share === null ? "" : `; convergence ${(100 * s.convergence_share).toFixed(1)}% (${s.new_pages} new)`) +
    `; ${s.seconds.toFixed(1)}s\n`
  );
}

/** The end-of-run table: what the run saw, kept, selected, cleaned and wrote. */
export function runSummary(stores: RunStores, rounds: RoundSummary[], cleaned: CleanSummary, m: Manifest, out: string): string {
  const store = stores.coord;
  const dropCounts = new Map<string, { stage: string; reason: string; n: number }>();
  for (const p of stores.parts) {
    for (const d of p.db.prepare("SELECT stage, reason, sum(count) AS n FROM drops GROUP BY stage, reason").all() as Array<{ stage: string; reason: string; n: number }>) {
      const c = dropCounts.get(`${d.stage}\t${d.reason}`) ?? { ...d, n: 0 };
      c.n += d.n;
      dropCounts.set(`${d.stage}\t${d.reason}`, c);
    }
  }
  const drops = [...dropCounts.values()].sort((a, b) => (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : b.n - a.n));
  const files = { files: stores.sum("SELECT count(*) FROM files"), pages: stores.sum("SELECT coalesce(sum(pages), 0) FROM files") };
  const hosts = store.db.prepare("SELECT host, selected, pages FROM domain_stats WHERE round = ? AND math_related = 1 ORDER BY selected DESC LIMIT 5").all(cleaned.round) as Array<{ host: string; selected: number; pages: number }>;
  const accepted = store.db.prepare("SELECT prefix, who FROM annotations WHERE decision = 'accept' ORDER BY prefix").all() as Array<{ prefix: string; who: string }>;
  const row = (k: string, v: string) => `  ${k.padEnd(28)} ${v}\n`;
  let t = "\nrun summary\n";
  t += row("WARC files / HTML pages", `${files.files} / ${files.pages}`);
  t += row("documents stored", String(stores.docCount()));
  for (const stage of ["warc", "extract"]) t += row(`dropped (${stage})`, drops.filter((d) => d.stage === stage).map((d) => `${d.reason}=${d.n}`).join(" ") || "none");
  for (const r of rounds) {
    t += row(`round ${r.round}`, `selected ${r.selected} (${r.selected_tokens} tokens), held-out recall ${r.held_out_recall.toFixed(3)}, promoted ${r.promoted}` + (r.convergence_share === null ? "" : `, convergence ${(100 * r.convergence_share).toFixed(1)}%`));
  }
  // at crawl scale there are thousands: the first few, and how many more
  const hostCount = store.db.prepare("SELECT count(*) FROM domain_stats WHERE round = ? AND math_related = 1").pluck().get(cleaned.round) as number;
  const more = (shown: number, all: number) => (all > shown ? ` and ${all - shown} more (mathcorpus domains)` : "");
  t += row("math-related hosts", (hosts.map((h) => `${safeField(h.host)} (${h.selected}/${h.pages})`).join(", ") || "none") + more(hosts.length, hostCount));
  t += row("accepted prefixes", (accepted.slice(0, 10).map((a) => `${a.prefix} (${a.who})`).join(", ") || "none") + more(Math.min(10, accepted.length), accepted.length));
  t += row("removed by clean", Object.entries(cleaned.removed).map(([k, v]) => `${k}=${v}`).join(" ") || "none");
  t += row("exported", `${m.documents} documents, ${m.tokens} tokens in ${m.shards.length} shard(s) → ${out}`);
  return t;
}
