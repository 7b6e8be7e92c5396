import { esc, num, pct } from "../report/html.js";
import type { PageView } from "../report/data.js";
import { documentHtml, pageCard } from "../report/page.js";
import type { ReviewHost, ReviewPrefix } from "./data.js";

/**
 * The review page: hosts → prefixes → sample pages, rendered on the server (everything crawled
 * escaped, mathematics rendered by KaTeX), with one small inline script (allowed by its nonce
 * and nothing else) that sends decisions with the session's token. Keys: j/k or ↓/↑ move between
 * prefixes, a accepts, r rejects, s skips, n writes a note; buttons do the same by mouse.
 */

export interface ReviewView {
  run: string;
  round: number;
  annotator: string;
  hosts: ReviewHost[];
  total: number;
  undecided: number;
  page: number;
  pages: number;
  samples: Map<string, PageView[]>;
  /** A live process holds the run's lock: decisions are refused until it ends. */
  busy: string | null;
  token: string;
}

const CSS = `
.bar{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid #ccc;padding:8px 24px;font-size:13px}
.bar kbd{border:1px solid #bbb;border-radius:3px;padding:0 4px;background:#f6f6f6;font-size:12px}
#status{min-height:1.3em;margin-top:4px;font-weight:600}
#status.error{color:#b00020}
#status.ok{color:#1b6e20}
.busy{background:#fff3cd;border:1px solid #e0c36a;padding:8px 12px;border-radius:5px;margin:8px 0}
.prefix{border:2px solid #e3e3e3;border-radius:6px;padding:8px 12px;margin:10px 0;outline:none;scroll-margin-top:90px}
.prefix .page .text{max-height:9em}
.prefix.current{border-color:#2c7fb8;box-shadow:0 0 0 3px #cfe3f3}
.prefix .head{display:flex;flex-wrap:wrap;gap:10px;align-items:center}
.prefix .name{font-family:ui-monospace,monospace;font-size:14px;font-weight:600;word-break:break-all}
.prefix button{font-size:13px;padding:3px 10px;border-radius:4px;border:1px solid #999;background:#f7f7f7;cursor:pointer}
.prefix button.accept{border-color:#2e7d32}
.prefix button.reject{border-color:#b00020}
.prefix input.note{flex:1;min-width:200px;font-size:13px;padding:3px 6px}
.samples h4{font-size:13px;margin:8px 0 2px;color:#444}
.pager a{margin-right:10px}
`;

const SCRIPT = `
(() => {
  const token = document.querySelector('meta[name="review-token"]').content;
  const status = document.getElementById("status");
  const cards = Array.from(document.querySelectorAll(".prefix"));
  let cur = 0;
  const say = (text, kind) => { status.textContent = text; status.className = kind; };
  const focus = (i, scroll = true) => {
    if (!cards.length) return;
    cur = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach((c, k) => c.classList.toggle("current", k === cur));
    cards[cur].focus({ preventScroll: true });
    if (scroll) cards[cur].scrollIntoView({ block: "start" });
  };
  const decide = async (card, decision) => {
    const prefix = card.dataset.prefix;
    if (decision === "skip") { say(prefix + ": skipped", "ok"); focus(cards.indexOf(card) + 1); return; }
    const note = card.querySelector("input.note").value;
    let res, body;
    try {
      res = await fetch("/api/decision", { method: "POST", headers: { "content-type": "application/json", "x-review-token": token }, body: JSON.stringify({ prefix, decision, note }) });
      body = await res.json();
    } catch (err) {
      say("could not reach the review server: " + err.message, "error");
      return;
    }
    if (!res.ok) { say(body.error || ("refused: HTTP " + res.status), "error"); return; }
    const badge = card.querySelector(".decision");
    badge.textContent = body.decision + " by " + body.who;
    badge.className = "badge decision " + body.decision;
    say(prefix + ": " + body.decision + " recorded (" + body.who + ", " + body.at + "); it applies from the next round", "ok");
    focus(cards.indexOf(card) + 1);
  };
  cards.forEach((card, i) => {
    card.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-decision]");
      if (b) decide(card, b.dataset.decision);
      else if (!e.target.closest("a, input")) focus(i);
    });
  });
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target instanceof HTMLInputElement) { if (e.key === "Escape" || e.key === "Enter") { e.preventDefault(); e.target.blur(); cards[cur] && cards[cur].focus({ preventScroll: true }); } return; }
    const card = cards[cur];
    const keys = { j: () => focus(cur + 1), ArrowDown: () => focus(cur + 1), k: () => focus(cur - 1), ArrowUp: () => focus(cur - 1),
      a: () => card && decide(card, "accept"), r: () => card && decide(card, "reject"), s: () => card && decide(card, "skip"),
      n: () => card && card.querySelector("input.note").focus() };
    const f = keys[e.key];
    if (f) { e.preventDefault(); f(); }
  });
  focus(0, false);
})();
`;

function prefixCard(p: ReviewPrefix, samples: PageView[]): string {
  const decided = p.decision ? `<span class="badge decision ${esc(p.decision)}">${esc(p.decision)} by ${esc(p.who ?? "")}</span>` : `<span class="badge decision">undecided</span>`;
  const unsel = samples.filter((s) => !s.selected);
  const sel = samples.filter((s) => s.selected);
  const group = (title: string, list: PageView[]) => (list.length ? `<h4>${esc(title)}</h4>${list.map((s) => pageCard(s, 600)).join("\n")}` : "");
  return `<div class="prefix" tabindex="-1" data-prefix="${esc(p.prefix)}">
<div class="head"><span class="name">${esc(p.prefix)}</span>
<span>${num(p.selected)}/${num(p.pages)} selected (${pct(p.share)}); accepting makes ${num(p.pages - p.selected)} unselected page${p.pages - p.selected === 1 ? "" : "s"} seeds</span>
${decided}</div>
<div class="head" style="margin-top:6px">
<button type="button" class="accept" data-decision="accept" title="accept (a)">Accept <kbd>a</kbd></button>
<button type="button" class="reject" data-decision="reject" title="reject (r)">Reject <kbd>r</kbd></button>
<button type="button" data-decision="skip" title="skip (s)">Skip <kbd>s</kbd></button>
<input class="note" type="text" maxlength="1000" placeholder="note (n)" value="${esc(p.note ?? "")}" aria-label="note on ${esc(p.prefix)}">
</div>
<div class="samples">${group("pages accepting would make seeds", unsel)}${group("pages the round selected", sel)}</div>
</div>`;
}

export function reviewHtml(v: ReviewView, nonce: string, csp: string): string {
  const hosts = v.hosts
    .map(
      (h) => `<section class="host"><h2>${esc(h.host)} <span class="muted">${num(h.selected)}/${num(h.pages)} pages selected (${pct(h.share)})</span></h2>
${h.prefixes.map((p) => prefixCard(p, v.samples.get(p.prefix) ?? [])).join("\n")}</section>`,
    )
    .join("\n");
  const pager =
    v.pages > 1
      ? `<p class="pager">${Array.from({ length: v.pages }, (_, i) => (i + 1 === v.page ? `<b>page ${i + 1}</b>` : `<a href="/?page=${i + 1}">page ${i + 1}</a>`)).join(" ")}</p>`
      : "";
  const busy = v.busy ? `<div class="busy" id="busy">${esc(v.busy)}</div>` : "";
  const body = `<header class="top"><h1>Review URL prefixes: ${esc(v.run)}</h1><p>round ${v.round} · ${num(v.total)} math-related host${v.total === 1 ? "" : "s"} · ${num(v.undecided)} undecided prefix${v.undecided === 1 ? "" : "es"} · decisions recorded as ${esc(v.annotator)}</p></header>
<div class="bar"><kbd>j</kbd>/<kbd>k</kbd> next/previous prefix · <kbd>a</kbd> accept · <kbd>r</kbd> reject · <kbd>s</kbd> skip · <kbd>n</kbd> note (<kbd>Enter</kbd> to leave it). Accepted prefixes' unselected pages become seeds from the next round.
<div id="status" role="status" aria-live="polite"></div></div>
<main>${busy}${hosts || "<p>This round has no math-related host to review.</p>"}${pager}</main>
<script nonce="${esc(nonce)}">${SCRIPT}</script>`;
  return documentHtml(`review: ${v.run}`, body, csp, `<meta name="review-token" content="${esc(v.token)}">\n<style>${CSS}</style>\n`);
}
