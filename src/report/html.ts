/**
 * HTML for the report and the review page. Everything that comes from a crawl (titles, URLs,
 * extracted text, benchmark items, hosts) goes through `esc` (text and attribute values alike);
 * a URL becomes a link only through `link`, which takes http(s) URLs and nothing else, so a
 * `javascript:` or `data:` URL is shown as text, never followed.
 */

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

/** Escapes text for an HTML text node or a quoted attribute value. */
export function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

/** `url` as a link when it is http(s), else as plain text; the link opens with no referrer and no opener. */
export function link(url: string, text: string = url): string {
  let ok = false;
  try {
    const u = new URL(url);
    ok = (u.protocol === "http:" || u.protocol === "https:") && !/[\u0000-\u001f\s]/.test(url);
  } catch {
    ok = false;
  }
  return ok ? `<a href="${esc(url)}" rel="noopener noreferrer nofollow" target="_blank">${esc(text)}</a>` : `<span class="url">${esc(text)}</span>`;
}

/** A number with thousands separators. */
export const num = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");

/** A share as a percentage. */
export const pct = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(digits)}%`);

/** A table: `head` is plain text (escaped here); each row's cells are HTML already escaped by the caller. */
export function table(head: string[], rows: string[][], cls = ""): string {
  return `<table${cls ? ` class="${esc(cls)}"` : ""}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}
