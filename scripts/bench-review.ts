/**
 * Review page benchmark: how long `reviewHosts` takes to rank one page of hosts when a round has
 * many math-related hosts. The coordinator store is synthetic (counts only: `--hosts` hosts, each
 * with a root prefix and two directory prefixes, pages and selections drawn at random, a few
 * decided), since the ranking reads nothing but domain_stats, prefix_stats and annotations.
 *
 *   node dist/scripts/bench-review.js [--hosts 100000] [--pages 3]
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { recordDecisions } from "../src/rounds/annotate.js";
import { reviewHosts } from "../src/review/data.js";
import { RunStores } from "../src/store/stores.js";

const { values } = parseArgs({ options: { hosts: { type: "string", default: "100000" }, pages: { type: "string", default: "3" } } });
const H = Number(values.hosts);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mc-bench-review-"));
const stores = RunStores.open(dir);
try {
  const db = stores.coord.db;
  const hi = db.prepare("INSERT INTO domain_stats (round, host, pages, selected, share, math_related) VALUES (1, ?, ?, ?, ?, 1)");
  const pi = db.prepare("INSERT INTO prefix_stats (round, prefix, host, depth, pages, selected, share) VALUES (1, ?, ?, ?, ?, ?, ?)");
  let x = 1;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  db.transaction(() => {
    for (let h = 0; h < H; h++) {
      const host = `h${h}.org`;
      const pages = 10 + Math.floor(rnd() * 1000);
      const sel = Math.floor(pages * rnd());
      hi.run(host, pages, sel, sel / pages);
      pi.run(`${host}/`, host, 0, pages, sel, sel / pages);
      for (const d of ["a", "b"]) {
        const p = Math.floor(pages * rnd());
        const s = Math.floor(p * rnd());
        pi.run(`${host}/${d}/`, host, 1, p, s, p ? s / p : 0);
      }
    }
  })();
  recordDecisions(stores.coord, Array.from({ length: Math.min(H, 1000) }, (_, i) => ({ prefix: `h${i * 7 % H}.org/`, decision: "accept" as const })), "bench", 1);
  console.log(`${H} hosts, ${3 * H} prefixes; node ${process.version}`);
  for (let i = 0; i < Number(values.pages); i++) {
    const t = performance.now();
    const r = reviewHosts(stores, 1, 20 * i, 20);
    console.log(`page ${i + 1}: ${(performance.now() - t).toFixed(0)} ms (${r.hosts.length} hosts, ${r.undecided} undecided prefixes)`);
  }
} finally {
  stores.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
