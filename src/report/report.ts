import { funnelSvg, histogramSvg, prSvg, roundsSvg } from "./charts.js";
import type { ReportData } from "./data.js";
import { esc, link, num, pct, table } from "./html.js";
import { documentHtml, pageCard } from "./page.js";

/**
 * The run's report: one self-contained HTML file (inline SVG charts, KaTeX's CSS and fonts
 * inlined, mathematics rendered at report time) with no script at all, and a CSP that allows
 * none, so it opens offline and nothing crawled can run in it.
 */

export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:; base-uri 'none'; form-action 'none'";

const n = (x: number) => `<span class="n">${num(x)}</span>`;

function funnelSection(d: ReportData): string {
  const rows = d.funnel.map((s) => [esc(s.label), n(s.pages), esc((s.dropped ?? []).filter((x) => x.n > 0).map((x) => `${x.reason} ${num(x.n)}`).join(", ") || "–")]);
  const notPages = d.notPages.length ? `<p class="muted">WARC records that were not HTML pages (${esc(num(d.files))} file${d.files === 1 ? "" : "s"}): ${esc(d.notPages.map((x) => `${x.reason} ${num(x.n)}`).join(", "))}</p>` : "";
  return `<section id="funnel"><h2>Where pages went</h2>
<div class="charts">${funnelSvg(d.funnel, "pages left after each step")}</div>
${table(["step", "pages", "dropped at this step, by reason"], rows, "funnel")}
${notPages}</section>`;
}

function roundsSection(d: ReportData): string {
  if (d.rounds.length === 0) return `<section id="rounds"><h2>Rounds</h2><p>No round has finished yet.</p></section>`;
  const rows = d.rounds.map((r) => [
    String(r.round),
    n(r.selected),
    n(r.selectedTokens),
    r.cutoff === null ? "–" : `${r.cutoff.toFixed(6)}${r.cutoffProbability === null ? "" : ` (P ${r.cutoffProbability.toFixed(3)})`}`,
    esc(r.cutoffRule),
    r.heldOutRecall === null ? "–" : r.heldOutRecall.toFixed(4),
    r.rocAuc === null ? "–" : r.rocAuc.toFixed(4),
    n(r.mathRelatedHosts),
    n(r.promoted),
    r.convergence === null ? "–" : `${pct(r.convergence)} (${num(r.newPages ?? 0)} new)`,
  ]);
  const conv =
    d.rounds.length > 0
      ? roundsSvg(
          d.rounds.map((r) => r.round),
          [
            { name: "pages selected", values: d.rounds.map((r) => r.selected), color: "#2c7fb8" },
            { name: "held-out recall", values: d.rounds.map((r) => r.heldOutRecall), color: "#31a354", share: true },
            { name: "selected before", values: d.rounds.map((r) => r.convergence), color: "#756bb1", share: true },
          ],
          "convergence across rounds",
        )
      : "";
  const per = d.rounds
    .map((r) => {
      const hist = r.histograms
        ? histogramSvg(
            [
              { name: "held-out seeds", counts: r.histograms.positives, color: "#31a354" },
              { name: "held-out negatives", counts: r.histograms.negatives, color: "#de2d26" },
              { name: "crawl", counts: r.histograms.crawl, color: "#2c7fb8" },
            ],
            r.cutoff,
            `round ${r.round}: scores and the cut-off`,
          )
        : `<p class="muted">round ${r.round} recorded no score histograms (a run from an older version).</p>`;
      const pr = r.scores ? prSvg(r.scores.positives, r.scores.negatives, r.cutoff, `round ${r.round}: held-out PR curve`) : "";
      const train = r.training ? `<p class="muted">trained on ${num(r.training.lines)} lines, ${r.training.epoch} epochs at lr ${r.training.lr}, final loss ${r.training.loss ?? "not reported"}</p>` : "";
      return `<h3 id="round-${r.round}">Round ${r.round}: ${num(r.selected)} pages, ${num(r.selectedTokens)} tokens selected</h3>${train}<div class="charts">${hist}${pr}</div>`;
    })
    .join("\n");
  return `<section id="rounds"><h2>Rounds</h2>
${table(["round", "selected", "tokens", "cut-off", "rule", "held-out recall", "ROC-AUC", "math-related hosts", "promoted", "convergence"], rows, "rounds")}
<p class="muted">Held-out recall: the share of held-out seeds at or above the default rule's cut-off. Convergence: the share of the round's selection that an earlier round had selected. The PR curve is of held-out seeds against held-out sampled pages; its red point is the round's cut-off.</p>
<div class="charts">${conv}</div>
${per}</section>`;
}

function hostsSection(d: ReportData): string {
  if (d.round === null) return "";
  if (d.hosts.length === 0) return `<section id="hosts"><h2>Math-related hosts</h2><p>Round ${d.round} found no math-related host.</p></section>`;
  const rows: string[][] = [];
  for (const h of d.hosts) {
    rows.push([`<b>${esc(h.host)}</b>`, "", n(h.pages), n(h.selected), pct(h.share), "", "", ""]);
    for (const p of h.prefixes) {
      const dec = p.decision ? `<span class="badge ${p.decision === "accept" ? "accept" : "reject"}">${esc(p.decision)}</span>` : "–";
      rows.push(["", esc(p.prefix), n(p.pages), n(p.selected), pct(p.share), dec, esc(p.who ?? ""), esc(p.at ? `${p.at.slice(0, 19).replace("T", " ")}${p.note ? ` · ${p.note}` : ""}` : "")]);
    }
  }
  const more = d.hostsTotal > d.hosts.length ? `<p class="muted">and ${num(d.hostsTotal - d.hosts.length)} more hosts (\`mathcorpus domains --run … --json\` lists them all)</p>` : "";
  return `<section id="hosts"><h2>Math-related hosts of round ${d.round} (${num(d.hostsTotal)})</h2>
${table(["host", "prefix", "pages", "selected", "share", "decision", "who", "when · note"], rows, "hosts")}${more}</section>`;
}

function cleanSection(d: ReportData): string {
  if (!d.clean) return `<section id="clean"><h2>Decontamination</h2><p>The last round has not been cleaned.</p></section>`;
  const counts = Object.entries(d.clean.counts).map(([k, v]) => `${k} ${num(v)}`).join(", ");
  const rows = d.matches.map((m) => [esc(m.benchmark), esc(m.item), esc(m.field), `<mark>${esc(m.span)}</mark>`, `${esc(m.page.title || "(no title)")}<br>${link(m.page.url)}`]);
  const more = d.matchesTotal > d.matches.length ? `<p class="muted">and ${num(d.matchesTotal - d.matches.length)} more</p>` : "";
  return `<section id="clean"><h2>Cleaning of round ${d.clean.round}</h2><p>${esc(counts)}</p>
<h3>Benchmark matches (${num(d.matchesTotal)})</h3>
${d.matches.length ? table(["benchmark", "item", "field", "matching span", "page"], rows, "matches") : "<p>No page matched a benchmark.</p>"}${more}</section>`;
}

/** `{a: 1, b: 2}` as "a 1, b 2" ("none" if empty or not an object of numbers). */
function counts(o: unknown): string {
  if (!o || typeof o !== "object") return "none";
  const parts = Object.entries(o as Record<string, unknown>).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${num(v as number)}`);
  return parts.join(", ") || "none";
}

function exportSection(d: ReportData): string {
  const m = d.manifest;
  if (!m) return `<section id="export"><h2>Export</h2><p>No export found.</p></section>`;
  const shards = m.shards ?? [];
  const info = [
    ["folder", esc(m.dir)],
    ["round", esc(String(m.round ?? "–"))],
    ["documents", n(m.documents)],
    ["tokens", `${n(m.tokens)} (${esc(m.tokenizer)})`],
    ["shards", `${num(shards.length)}, ${(shards.reduce((a, s) => a + (s.bytes ?? 0), 0) / 1048576).toFixed(1)} MiB`],
    ["created", esc(m.created)],
    ["removed as duplicates", esc(counts(m.dedup))],
    ["removed as contaminated", esc(counts((m.decontamination as { by_benchmark?: unknown } | undefined)?.by_benchmark))],
  ];
  return `<section id="export"><h2>Export</h2>${table(["", ""], info, "manifest")}</section>`;
}

function samplesSection(d: ReportData): string {
  if (!d.samples) return "";
  const bins = d.samples.bins
    .map((b) => {
      const head = `<h3>scores ${b.lo.toFixed(2)}–${b.hi.toFixed(2)}: ${num(b.count)} page${b.count === 1 ? "" : "s"}</h3>`;
      return head + (b.pages.length ? b.pages.map((p) => pageCard(p, 700)).join("\n") : `<p class="muted">none</p>`);
    })
    .join("\n");
  return `<section id="samples"><h2>Sample pages of round ${d.samples.round} by score</h2><p class="muted">Chosen by a fixed hash of the page's id; the text is what the extractor kept, with its mathematics rendered.</p>${bins}</section>`;
}

/** The report as one HTML document. */
export function renderReport(d: ReportData): string {
  const title = `mathcorpus report: ${d.run}`;
  const last = d.rounds.at(-1);
  const lead = last ? `${d.rounds.length} round${d.rounds.length === 1 ? "" : "s"}; round ${last.round} selected ${num(last.selected)} pages (${num(last.selectedTokens)} tokens)` : "no finished round";
  const body = `<header class="top"><h1>${esc(title)}</h1><p>${esc(lead)} · generated ${esc(d.generated)}</p></header>
<nav class="toc"><a href="#funnel">funnel</a><a href="#rounds">rounds</a><a href="#hosts">hosts</a><a href="#clean">decontamination</a><a href="#export">export</a><a href="#samples">sample pages</a></nav>
<main>
${funnelSection(d)}
${roundsSection(d)}
${hostsSection(d)}
${cleanSection(d)}
${exportSection(d)}
${samplesSection(d)}
</main>`;
  return documentHtml(title, body, REPORT_CSP);
}
