/**
 * Two runs of the same crawl and seeds compared round by round (e.g. every page extracted against
 * --candidate-pool): pages selected, of them on --math-host (a make-cc-warc.py crawl's math), the
 * share of A's selection that B selected too, and why B left out the rest (outside B's pool, or in
 * it and scored under B's cut-off), by host. Pages are matched by URL.
 *
 *   node dist/scripts/compare-runs.js RUN_A RUN_B [--math-host planetmath.org]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import Database from "better-sqlite3";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { "math-host": { type: "string", default: "planetmath.org" } } });
const [a, b] = positionals;
if (!a || !b) throw new Error("usage: compare-runs RUN_A RUN_B [--math-host HOST]");
const host = values["math-host"]!;
const open = (dir: string) => new Database(path.join(dir, "work.sqlite"), { readonly: true });
const A = open(a);
const B = open(b);
const hasColumn = (db: Database.Database, c: string) => (db.prepare("SELECT name FROM pragma_table_info('documents')").pluck().all() as string[]).includes(c);
const selected = (db: Database.Database, round: number) => db.prepare("SELECT d.url, d.host FROM selections s JOIN documents d ON d.id = s.doc_id WHERE s.round = ?").all(round) as Array<{ url: string; host: string }>;
const rounds = (db: Database.Database) => db.prepare("SELECT round, cutoff FROM rounds WHERE step = 'done' ORDER BY round").all() as Array<{ round: number; cutoff: number }>;
const extracted = hasColumn(B, "extracted") ? B.prepare("SELECT extracted FROM documents WHERE url = ?").pluck() : undefined;
const bRounds = new Map(rounds(B).map((r) => [r.round, r.cutoff]));
for (const { round, cutoff } of rounds(A)) {
  if (!bRounds.has(round)) continue;
  const sa = selected(A, round);
  const sb = new Set(selected(B, round).map((r) => r.url));
  const both = sa.filter((r) => sb.has(r.url));
  const missed = sa.filter((r) => !sb.has(r.url));
  const outside = missed.filter((r) => extracted?.get(r.url) === 0);
  const mathA = sa.filter((r) => r.host === host).length;
  const mathBoth = both.filter((r) => r.host === host).length;
  const hosts = new Map<string, number>();
  for (const r of missed) hosts.set(r.host, (hosts.get(r.host) ?? 0) + 1);
  console.log(
    `round ${round}: A selected ${sa.length} (${mathA} on ${host}, cut-off ${cutoff.toFixed(4)}), B ${sb.size} (cut-off ${bRounds.get(round)!.toFixed(4)}); ` +
      `B selected ${both.length} of A's = ${((100 * both.length) / sa.length).toFixed(2)}%, ${mathBoth}/${mathA} of its ${host} pages = ${((100 * mathBoth) / Math.max(1, mathA)).toFixed(2)}%; ` +
      `B's not in A's: ${sb.size - both.length}`,
  );
  console.log(`  A's left out by B: ${outside.length} outside B's pool, ${missed.length - outside.length} in it; by host: ${[...hosts].sort((x, y) => y[1] - x[1]).map(([h, n]) => `${h} ${n}`).join(", ")}`);
}
A.close();
B.close();
