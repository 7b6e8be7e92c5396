import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import katex from "katex";
import { esc } from "./html.js";

/**
 * Extracted text with its mathematics rendered by KaTeX at report time, so the page needs no
 * script. The extractor writes formulas as `$…$` (inline) and `$$…$$` (display); seeds may also
 * use `\(…\)` and `\[…\]`. Text between formulas is escaped; a formula KaTeX cannot parse is shown
 * as its escaped source, as is one over 800 characters. KaTeX runs with `trust: false`, so `\href{javascript:…}`, `\url` and
 * `\includegraphics` render as inert text, and with bounded `maxExpand`/`maxSize`, so a page's
 * macros cannot make it loop or draw a page-sized box.
 */

/** Longer formulas are shown as source: KaTeX writes ~150 bytes of HTML per character of TeX. */
const MAX_TEX = 800;
/** What a formula counts against a text's budget at least (a page of `$x$ $y$` is not 350 formulas). */
const MIN_FORMULA_COST = 20;

interface Segment {
  text: string;
  math?: "inline" | "display";
}

/** Splits `text` into prose and formulas (`$$…$$`, `\[…\]`, `$…$`, `\(…\)`); a lone `$` (a price) stays prose. */
export function splitMath(text: string): Segment[] {
  const out: Segment[] = [];
  const re = /\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$(?=[^\s$])((?:\\.|[^$\\\n])+?)(?<=[^\s\\])\$(?!\d)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    const display = m[1] ?? m[2];
    out.push(display !== undefined ? { text: display, math: "display" } : { text: (m[3] ?? m[4])!, math: "inline" });
    last = re.lastIndex;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/** One formula as KaTeX HTML (with MathML for screen readers and copying), or its source if it does not parse. */
export function renderFormula(tex: string, display: boolean): string {
  const source = () => `<code class="tex">${esc(display ? `$$${tex}$$` : `$${tex}$`)}</code>`;
  if (tex.length > MAX_TEX) return source();
  try {
    return katex.renderToString(tex, { displayMode: display, throwOnError: false, trust: false, strict: "ignore", maxExpand: 200, maxSize: 20, output: "htmlAndMathml" });
  } catch {
    return source();
  }
}

/**
 * `text` (at most about `maxChars` of it, cut between segments, never inside a formula; a formula
 * counts at least MIN_FORMULA_COST, so the HTML stays bounded however dense the math) as HTML:
 * prose escaped with its line breaks kept, formulas rendered.
 */
export function renderText(text: string, maxChars = Infinity): string {
  let used = 0;
  let html = "";
  for (const s of splitMath(text)) {
    if (used >= maxChars) {
      html += "<span class=\"more\">…</span>";
      break;
    }
    if (s.math) {
      const cost = Math.max(s.text.length, MIN_FORMULA_COST);
      if (used > 0 && used + cost > maxChars) {
        html += '<span class="more">…</span>';
        break;
      }
      html += renderFormula(s.text, s.math === "display");
      used += cost;
    } else {
      if (s.text.length > maxChars - used) {
        html += esc(s.text.slice(0, Math.max(0, maxChars - used))).replace(/\n/g, "<br>") + "…";
        break;
      }
      html += esc(s.text).replace(/\n/g, "<br>");
      used += s.text.length;
    }
  }
  return html;
}

let css: string | undefined;

/**
 * KaTeX's stylesheet with its fonts inlined as data: URLs (WOFF2 only, which every current
 * browser reads), so a page that holds it needs no other file and no network (~380 KB).
 */
export function katexCss(): string {
  if (css !== undefined) return css;
  const require = createRequire(import.meta.url);
  const file = require.resolve("katex/dist/katex.min.css");
  const dir = path.dirname(file);
  css = fs
    .readFileSync(file, "utf8")
    .replace(/src:url\((fonts\/[^)]+\.woff2)\) format\("woff2"\)(,url\([^)]+\) format\("[a-z]+"\))*/g, (_, font: string) => {
      const data = fs.readFileSync(path.join(dir, font)).toString("base64");
      return `src:url(data:font/woff2;base64,${data}) format("woff2")`;
    });
  return css;
}
