/**
 * Rounds quality on a crawl whose pages are labelled (issue [quality]): runs `mathcorpus run` on
 * a WARC made by ../shared/tools/make-cc-warc.py from labelled JSON lines (label "math" or not),
 * then reads the run's store and reports, per round, the pages selected, the math pages among
 * them, recall over the stored math pages and precision; and the hosts called math-related with
 * their real math share (a host of no math called math-related is a false discovery).
 *
 *   node dist/scripts/eval-rounds.js --warc CRAWL.warc.gz --labels IN.jsonl[.gz],... [--run DIR] [--json] [--as-labelled]
 *                                    [-- extra run options]
 *
 * Two pages of ../shared/data/negatives are mathematics on inspection (a MathJax demo of formulas,
 * Wikipedia's Hermitian matrix): they count as math (MATH_BY_INSPECTION; `--as-labelled` counts
 * them as labelled).
 *
 * A page is labelled by its URL (make-cc-warc's `?cc_copy=K` of a repeat removed; a record without
 * a URL gets make-cc-warc's stable `.invalid` URL); an unlabelled page counts as not math.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import Database from "better-sqlite3";

interface Args {
  warc: string;
  labels: string[];
  run: string;
  json: boolean;
  asLabelled: boolean;
  extra: string[];
}

function parse(argv: string[]): Args {
  const dash = argv.indexOf("--");
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const extra = dash >= 0 ? argv.slice(dash + 1) : [];
  const get = (k: string) => {
    const i = own.indexOf(k);
    return i >= 0 ? own[i + 1] : undefined;
  };
  const warc = get("--warc");
  const labels = get("--labels");
  if (!warc || !labels) {
    console.error("usage: eval-rounds --warc CRAWL.warc.gz --labels IN.jsonl[.gz],... [--run DIR] [--json] [-- run options]");
    process.exit(2);
  }
  return { warc, labels: labels.split(","), run: get("--run") ?? fs.mkdtempSync(path.join(os.tmpdir(), "eval-rounds-")), json: own.includes("--json"), asLabelled: own.includes("--as-labelled"), extra };
}

/** make-cc-warc.py's URL of a record without one. */
const noUrl = (id: string) => {
  const h = crypto.createHash("sha1").update(id).digest("hex");
  return `https://site-${h.slice(0, 8)}.invalid/${h.slice(8, 16)}.html`;
};

const baseUrl = (url: string) => url.replace(/[?&]cc_copy=\d+$/, "").trim().replace(/ /g, "%20");

const MATH_BY_INSPECTION = new Set(["readability:mathjax", "readability:wikipedia-3"]);

function readLabels(files: string[], asLabelled: boolean): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const f of files) {
    const buf = fs.readFileSync(f);
    const text = (f.endsWith(".gz") ? zlib.gunzipSync(buf) : buf).toString("utf8");
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { id: string; url?: string | null; html?: string; label?: string };
      if (!r.html) continue;
      out.set(baseUrl(r.url || noUrl(r.id)), r.label === "math" || (!asLabelled && MATH_BY_INSPECTION.has(r.id)));
    }
  }
  return out;
}

interface RoundEval {
  round: number;
  selected: number;
  math_selected: number;
  recall: number;
  precision: number;
  /** Precision over distinct texts (exact copies once). */
  distinct_precision: number;
  held_out_recall: number | null;
  cutoff: number | null;
  cutoff_rule: string | null;
  math_related_hosts: Array<{ host: string; pages: number; math_pages: number; selected: number }>;
  false_hosts: number;
}

function main(): void {
  const a = parse(process.argv.slice(2));
  const labels = readLabels(a.labels, a.asLabelled);
  const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "src", "cli.js");
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, "run", "--run", a.run, "--sources", path.resolve(a.warc), "--json", ...a.extra], { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28 });
  const seconds = (Date.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`run exited ${r.status}`);
    process.exit(1);
  }
  const db = new Database(path.join(a.run, "work.sqlite"), { readonly: true });
  const docs = db.prepare("SELECT id, url, host, content_hash AS hash FROM documents").all() as Array<{ id: number; url: string; host: string; hash: string }>;
  const hashOf = new Map(docs.map((d) => [d.id, d.hash]));
  const isMath = new Map<number, boolean>();
  let unlabelled = 0;
  for (const d of docs) {
    const l = labels.get(baseUrl(d.url));
    if (l === undefined) unlabelled++;
    isMath.set(d.id, l === true);
  }
  const mathStored = [...isMath.values()].filter(Boolean).length;
  const hostPages = new Map<string, { pages: number; math: number }>();
  for (const d of docs) {
    const h = hostPages.get(d.host) ?? { pages: 0, math: 0 };
    h.pages++;
    if (isMath.get(d.id)) h.math++;
    hostPages.set(d.host, h);
  }
  const rounds = db.prepare("SELECT round, cutoff, cutoff_rule, summary FROM rounds WHERE step = 'done' ORDER BY round").all() as Array<{ round: number; cutoff: number | null; cutoff_rule: string | null; summary: string }>;
  const out: RoundEval[] = [];
  for (const rd of rounds) {
    const sel = db.prepare("SELECT doc_id FROM selections WHERE round = ?").pluck().all(rd.round) as number[];
    const math = sel.filter((id) => isMath.get(id)).length;
    // a text selected under several URLs once (cleaning's exact dedup keeps one)
    const distinct = new Map<string, number>();
    for (const id of sel) if (!distinct.has(hashOf.get(id)!)) distinct.set(hashOf.get(id)!, id);
    const distinctMath = [...distinct.values()].filter((id) => isMath.get(id)).length;
    const hosts = (db.prepare("SELECT host, pages, selected FROM domain_stats WHERE round = ? AND math_related = 1 ORDER BY pages DESC").all(rd.round) as Array<{ host: string; pages: number; selected: number }>).map((h) => ({ ...h, math_pages: hostPages.get(h.host)?.math ?? 0 }));
    const summary = JSON.parse(rd.summary) as { held_out_recall?: number };
    out.push({
      round: rd.round,
      selected: sel.length,
      math_selected: math,
      recall: mathStored ? +(math / mathStored).toFixed(4) : 0,
      precision: sel.length ? +(math / sel.length).toFixed(4) : 0,
      distinct_precision: distinct.size ? +(distinctMath / distinct.size).toFixed(4) : 0,
      held_out_recall: summary.held_out_recall ?? null,
      cutoff: rd.cutoff,
      cutoff_rule: rd.cutoff_rule,
      math_related_hosts: hosts,
      false_hosts: hosts.filter((h) => h.math_pages === 0).length,
    });
  }
  const result = { warc: a.warc, run: a.run, seconds, documents: docs.length, math_documents: mathStored, unlabelled, rounds: out };
  if (a.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`${a.warc}: ${docs.length} stored pages, ${mathStored} math (${unlabelled} unlabelled), run ${seconds.toFixed(1)} s in ${a.run}`);
  console.log("round\tselected\tmath\trecall\tprecision\tprecision (distinct texts)\theld-out recall\tcut-off\tmath-related hosts (no math)");
  for (const o of out) {
    console.log(`${o.round}\t${o.selected}\t${o.math_selected}\t${o.recall}\t${o.precision}\t${o.distinct_precision}\t${o.held_out_recall}\t${o.cutoff}\t${o.math_related_hosts.length} (${o.false_hosts})`);
  }
  const last = out.at(-1);
  for (const h of last?.math_related_hosts.filter((x) => x.math_pages === 0) ?? []) console.log(`  no math: ${h.host} (${h.selected}/${h.pages} selected)`);
}

main();
