import { describe, expect, it } from "vitest";
import { type ExtractOptions, extractPage } from "../../src/extract/extract.js";
import { Extractor } from "../../src/extract/pool.js";
import { DEFAULT_LIMITS, MAX_MATHML_DEPTH } from "../../src/extract/tree.js";

/** [harden] #19, finding 4: every page is bounded in time and memory. */
const OPTS: ExtractOptions = { limits: DEFAULT_LIMITS, filters: { minChars: 0, minTextRatio: 0, minWordShare: 0 } };

/** `<math>` nested `depth` deep through `annotation-xml encoding="text/html"`, `blocks` times (the chaos campaign's page). */
function mathmlBomb(depth: number, blocks: number): string {
  const open = '<math><semantics><mi>x</mi><annotation-xml encoding="text/html">';
  const close = "</annotation-xml></semantics></math>";
  const block = open.repeat(depth) + "<mi>y</mi>" + close.repeat(depth);
  return `<html><body><p>${"Some text about the theorem. ".repeat(20)}</p>${(block + "<p>more text</p>").repeat(blocks)}</body></html>`;
}

describe("MathML handed to the converter is bounded", () => {
  it("a MathML bomb (55 blocks nested 1,000 deep, 3.8 MB) is extracted in well under a second per block, not 49 s", () => {
    const html = mathmlBomb(1000, 55);
    expect(html.length).toBeGreaterThan(3_800_000);
    const t0 = performance.now();
    const r = extractPage({ body: html }, OPTS);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(10_000); // before the bound: one such block alone took 47 s and 1.4 GB
    expect("ok" in r && r.ok.text).toContain("Some text about the theorem.");
  }, 60_000);

  it("MathML within the bound is still converted; a <math> nested in a <math> is read as its children", () => {
    const ok = extractPage({ body: '<p>Let <math><mfrac><mi>a</mi><mi>b</mi></mfrac></math> be.</p>' }, OPTS);
    expect("ok" in ok && ok.ok.text).toContain("$\\frac{a}{b}$");
    const nested = extractPage({ body: '<p>Let <math><mrow><mi>a</mi><math><mo>+</mo><mi>b</mi></math></mrow></math> be.</p>' }, OPTS);
    expect("ok" in nested && nested.ok.text).toMatch(/\$a\s*\+\s*b\$/);
    const deep = (d: number) => `<p>Deep <math>${"<mrow>".repeat(d)}<mi>z</mi>${"</mrow>".repeat(d)}</math> here.</p>`;
    const under = extractPage({ body: deep(MAX_MATHML_DEPTH - 2) }, OPTS);
    expect("ok" in under && under.ok.text).toContain("$z$");
    const over = extractPage({ body: deep(MAX_MATHML_DEPTH + 10) }, OPTS);
    expect("ok" in over && over.ok.text).not.toContain("$z$");
    expect("ok" in over && over.ok.text).toContain("Deep");
  });
});

describe("a page's deadline on the workers", () => {
  const slowPage = "<html><body>" + "<div><p>some words here and there <b>bold</b> <a href='x'>link</a></p></div>".repeat(40_000) + "</body></html>";
  const page = (i: number) => `<html><head><title>p${i}</title></head><body><p>${`Page ${i} has ordinary text. `.repeat(30)}</p></body></html>`;

  it("a page past --page-timeout is dropped as extract_timeout; the pages queued beside it on its worker are extracted again", async () => {
    // one worker, so the slow page shares its queue with the others
    const ex = new Extractor({ ...OPTS, pageTimeoutMs: 150 }, 1);
    try {
      const bodies = [page(0), slowPage, page(2), page(3), page(4)];
      const outs = await Promise.all(bodies.map((b) => ex.extract({ body: new TextEncoder().encode(b), contentType: "text/html" })));
      expect(outs.map((o) => ("ok" in o ? "ok" : "drop" in o ? o.drop : "outside"))).toEqual(["ok", "extract_timeout", "ok", "ok", "ok"]);
      expect("drop" in outs[1]! && outs[1].message).toMatch(/ran over 0\.15 s \(--page-timeout\)/);
      expect(outs.map((o) => ("ok" in o ? o.ok.title : ""))).toEqual(["p0", "", "p2", "p3", "p4"]);
      // the worker was replaced: later pages go on
      const after = await ex.extract({ body: page(9) });
      expect("ok" in after && after.ok.title).toBe("p9");
    } finally {
      await ex.close();
    }
  }, 60_000);

  it("the clock starts when a worker starts the page: pages queued behind a slow one are not timed out for waiting", async () => {
    const ex = new Extractor({ ...OPTS, pageTimeoutMs: 5_000 }, 1);
    try {
      // each slow page takes ~0.8 s here; the last page waits behind seven of them (> 5 s) on one worker
      const outs = await Promise.all([...Array<string>(7).fill(slowPage), page(1)].map((b) => ex.extract({ body: b })));
      expect(outs.map((o) => ("ok" in o ? "ok" : "drop" in o ? o.drop : "outside"))).toEqual([...Array<string>(8).fill("ok")]);
    } finally {
      await ex.close();
    }
  }, 60_000);
});
