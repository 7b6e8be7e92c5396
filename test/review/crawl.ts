import fs from "node:fs";
import path from "node:path";
import { ROOT } from "../helpers.js";
import { gzipMember, responseRecord } from "../warc/build.js";

/**
 * A crawl for the report and review tests: the bundled sample crawl plus pages under
 * planetmath.org/notes/ (a second prefix of the sample's math-related host). One of them carries
 * script payloads in its URL, title and text, and a GSM8K question, so it shows in the hosts, the
 * samples and the benchmark matches.
 */

export const PAYLOAD_TITLE = `<script>alert("title")</script><img src=x onerror=alert("title-img")> Cauchy–Schwarz notes`;
export const PAYLOAD_URL = `https://planetmath.org/notes/"><img/src=x/onerror=alert("url")><script>alert("url2")</script>`;
export const GSM8K_QUESTION =
  "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";

const escText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const MATH = [
  `<p>Let $V$ be an inner product space over $\\mathbb{R}$ or $\\mathbb{C}$. For all vectors $u, v \\in V$ the Cauchy–Schwarz inequality states that $|\\langle u, v\\rangle|^2 \\le \\langle u, u\\rangle \\langle v, v\\rangle$, with equality if and only if $u$ and $v$ are linearly dependent.</p>`,
  `<p>Proof. If $v = 0$ both sides vanish. Otherwise put $\\lambda = \\langle u, v\\rangle / \\langle v, v\\rangle$ and expand $0 \\le \\langle u - \\lambda v, u - \\lambda v\\rangle = \\langle u, u\\rangle - |\\langle u, v\\rangle|^2 / \\langle v, v\\rangle$. Multiplying by $\\langle v, v\\rangle > 0$ gives the inequality. $\\square$</p>`,
  `<p>Corollary (triangle inequality). For the induced norm $\\|x\\| = \\sqrt{\\langle x, x\\rangle}$ we have $\\|u + v\\|^2 = \\|u\\|^2 + 2\\,\\mathrm{Re}\\langle u, v\\rangle + \\|v\\|^2 \\le (\\|u\\| + \\|v\\|)^2$, hence $\\|u+v\\| \\le \\|u\\| + \\|v\\|$.</p>`,
  `<p>Example. In $\\mathbb{R}^n$ with the dot product the inequality reads $\\left(\\sum_{i=1}^n x_i y_i\\right)^2 \\le \\left(\\sum_{i=1}^n x_i^2\\right)\\left(\\sum_{i=1}^n y_i^2\\right)$; for integrals, $\\left|\\int_a^b f g\\,dx\\right|^2 \\le \\int_a^b |f|^2\\,dx \\int_a^b |g|^2\\,dx$ for square-integrable $f, g$.</p>`,
].join("\n");

function html(title: string, extra: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escText(title)}</title></head><body><article><h1>${escText(title)}</h1>${extra}${MATH}</article></body></html>`;
}

/** Writes the crawl into `dir`; returns its path. */
export function reviewCrawl(dir: string): string {
  const base = fs.readFileSync(path.join(ROOT, "data", "crawl-sample.warc.gz"));
  const payload =
    `<p>${escText(`<script>alert("text")</script> <img src=x onerror=alert("text-img")> <a href="javascript:alert('text-link')">click</a>`)}</p>` +
    `<p>A word problem seen elsewhere: ${escText(GSM8K_QUESTION)}</p>` +
    `<p>And a formula with a link: $\\href{javascript:alert('katex')}{x^2}$ and $\\url{javascript:alert('katex2')}$.</p>`;
  const pages: Array<[string, string]> = [
    [PAYLOAD_URL, html(PAYLOAD_TITLE, payload)],
    ["https://planetmath.org/notes/cauchyschwarzinequality", html("Cauchy–Schwarz inequality (notes)", "<p>See also Bessel's inequality $\\sum_k |\\langle x, e_k\\rangle|^2 \\le \\|x\\|^2$ for an orthonormal system $(e_k)$.</p>")],
    ["https://planetmath.org/notes/triangleinequalityofinnerproductnorms", html("Triangle inequality for inner product norms", "<p>In particular $d(x, y) = \\|x - y\\|$ is a metric on $V$, since $d(x, z) \\le d(x, y) + d(y, z)$.</p>")],
  ];
  const extra = pages.map(([url, body]) => gzipMember(responseRecord(url, body)));
  const file = path.join(dir, "crawl.warc.gz");
  fs.writeFileSync(file, Buffer.concat([base, ...extra]));
  return file;
}
