import { esc, link } from "./html.js";
import { katexCss } from "./math.js";
import { renderText } from "./math.js";
import type { PageView } from "./data.js";

/** The shared frame of the report and the review page: styles, KaTeX's, a strict CSP. */

export const BASE_CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:15px;color:#1b1b1b;background:#f6f6f4}
body{margin:0}
header.top{background:#20303c;color:#fff;padding:14px 24px}
header.top h1{margin:0;font-size:20px}
header.top p{margin:4px 0 0;color:#cfd8de;font-size:13px}
nav.toc{padding:8px 24px;background:#e9ecee;font-size:13px}
nav.toc a{margin-right:14px;color:#20303c}
main{padding:8px 24px 40px;max-width:1200px}
section{background:#fff;border:1px solid #dcdcdc;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:17px;margin:4px 0 10px}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f4;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666;font-size:13px}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.chart{border:1px solid #eee;max-width:100%;height:auto}
.page{border:1px solid #e3e3e3;border-radius:5px;padding:8px 12px;margin:8px 0;background:#fcfcfb}
.page .meta{font-size:12px;color:#555;margin-bottom:4px;word-break:break-all}
.page .title{font-weight:600}
.page .text{font-size:14px;line-height:1.45;max-height:14em;overflow:auto;overflow-wrap:anywhere}
.url{word-break:break-all}
.badge{display:inline-block;font-size:11px;padding:1px 6px;border-radius:8px;background:#e8eef3;margin-left:4px}
.badge.sel{background:#d8f0d8}
.badge.accept{background:#cdeccd}
.badge.reject{background:#f5d0d0}
code.tex{background:#f3f3f3;padding:0 2px}
.katex-display{margin:.4em 0;overflow-x:auto;overflow-y:hidden}
mark{background:#ffe58a}
`;

/**
 * A whole HTML document. `csp` is the Content-Security-Policy: the report's allows no script at
 * all, so even text that escaped escaping could not run.
 */
export function documentHtml(title: string, body: string, csp: string, extraHead = ""): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${esc(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${katexCss()}</style>
<style>${BASE_CSS}</style>
${extraHead}</head><body>
${body}
</body></html>
`;
}

/** A page as a card: title, URL (a link only if http(s)), score, selected, its text with the math rendered. */
export function pageCard(p: PageView, maxChars: number, extra = ""): string {
  return `<div class="page" data-doc="${p.id}">
<div class="title">${esc(p.title || "(no title)")}${p.selected ? '<span class="badge sel">selected</span>' : ""}</div>
<div class="meta">${link(p.url)}${p.score === null ? "" : ` · score ${p.score.toFixed(4)}`}${extra}</div>
<div class="text">${renderText(p.text, maxChars)}</div>
</div>`;
}
