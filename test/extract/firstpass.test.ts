import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tokens } from "../../src/classify/features.js";
import { nullLogger } from "../../src/core/log.js";
import { DEFAULT_FILTERS } from "../../src/extract/filters.js";
import { extractPage } from "../../src/extract/extract.js";
import { cheapText, firstPass } from "../../src/extract/firstpass.js";
import { signalNames } from "../../src/extract/signals.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import type { Page } from "../../src/warc/page.js";
import { WarcStats, readPages } from "../../src/warc/pages.js";
import { localSource } from "../../src/warc/source.js";

const SAMPLE = path.join(__dirname, "..", "..", "data", "crawl-sample.warc.gz");
const words = (s: string) => s.split(/\s+/).filter(Boolean).join(" ");
const fp = (html: string, contentType?: string) => firstPass(Buffer.from(html, "utf8"), contentType);

describe("the first pass's cheap text", () => {
  it("keeps the text outside tags, the title included, and nothing of scripts, styles, comments, templates or SVG", () => {
    const html =
      "<!DOCTYPE html><html><head><title>Group theory</title><style>p{color:red}</style><script>var secret = 1;</script></head>" +
      "<body><!-- hidden note --><p>A <b>group</b> is a set</p><template><p>unused</p></template><svg><text>drawn</text></svg><noembed>noembed</noembed>" +
      "<p>with an operation.</p></body></html>";
    expect(words(fp(html).text)).toBe("Group theory A group is a set with an operation.");
  });

  it("writes formulas as $…$: MathJax scripts, MathML alttext or TeX annotation (its tokens dropped), TeX images", () => {
    expect(words(fp('<p>Let <script type="math/tex">x^2</script> and <script type="math/tex; mode=display">\\sum_i a_i</script>.</p>').text)).toBe("Let $x^2$ and $$\\sum_i a_i$$ .");
    expect(words(fp('<p>so <math alttext="a+b" display="block"><mi>a</mi><mo>+</mo><mi>b</mi></math> holds</p>').text)).toBe("so $$a+b$$ holds");
    expect(words(fp('<m:math><m:semantics><m:mi>y</m:mi><m:annotation encoding="application/x-tex">y_1</m:annotation></m:semantics></m:math>').text)).toBe("$y_1$");
    // no TeX in the element: its tokens as words
    expect(words(fp("<math><mi>z</mi><mo>=</mo><mn>1</mn></math>").text)).toBe("z = 1");
    expect(words(fp('<img src="https://latex.codecogs.com/gif.latex?\\frac{1}{2}" alt="x"> and <img class="latex" alt="e^{i\\pi}" src="/x.png"> <img src="cat.jpg" alt="a cat">').text)).toBe(
      "$\\frac{1}{2}$ and $e^{i\\pi}$",
    );
    // a plain script's text is never taken
    expect(fp('<script type="text/javascript">x^2</script>').text.trim()).toBe("");
  });

  it("decodes entities once, after the tags are gone", () => {
    expect(words(fp("<p>Tom &amp; Jerry &lt;b&gt; &eacute;t&eacute; &#x3b1;&#946; &nbsp;end</p>").text)).toBe("Tom & Jerry <b> été αβ end");
    expect(words(fp('<math alttext="a &lt; b"><mi>a</mi></math>').text)).toBe("$a < b$");
  });

  it("reads the bytes in the charset the HTTP header or a <meta> names, else as UTF-8", () => {
    const latin = Buffer.concat([Buffer.from('<meta charset="windows-1252"><p>caf'), Buffer.from([0xe9]), Buffer.from(" na"), Buffer.from([0xef]), Buffer.from("ve</p>")]);
    expect(words(firstPass(latin).text)).toBe("café naïve");
    expect(firstPass(latin).charset).toBe("windows-1252");
    const gbk = Buffer.concat([Buffer.from("<p>"), Buffer.from([0xca, 0xfd, 0xd1, 0xa7]), Buffer.from("</p>")]); // 数学
    expect(words(firstPass(gbk, "text/html; charset=gbk").text)).toBe("数学");
    expect(words(fp("<p>Lemma 1. ∀ε&gt;0 ∃δ — naïve</p>").text)).toBe("Lemma 1. ∀ε>0 ∃δ — naïve");
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("<p>x<b>y</b></p>", "utf16le")]);
    expect(words(firstPass(utf16).text)).toBe("x y");
  });

  it("reads broken markup as a browser would: text '<', unclosed scripts and comments run to the end, cut tags end at the next '<'", () => {
    // "<d then</p>" is a start tag to a browser too
    expect(words(fp("<p>if a < b and c<d then</p>").text)).toBe("if a < b and c");
    expect(words(fp("<p>before</p><script>never closed <p>text").text)).toBe("before");
    expect(words(fp("<p>before</p><!-- never closed <p>text").text)).toBe("before");
    expect(words(fp("<p>one<b class='x'<i>two</i></p>").text)).toBe("one two");
    expect(words(fp("<p>cut <a href='x").text)).toBe("cut");
    // an unclosed <math> is the tag alone: the page goes on
    expect(words(fp("<math alttext='x'>y <p>after</p>").text)).toBe("y after");
  });

  it("gives the math signals of the page with its text", () => {
    const f = fp('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script><p>\\(\\frac{a}{b}\\) \\leq 1</p>');
    expect(signalNames(f.signals)).toEqual(["mathjax", "tex_commands"]);
    expect(signalNames(fp("<p>plain prose</p>").signals)).toEqual([]);
  });

  it("holds the words of the full extraction's text: on the bundled crawl, ≥ 95 % of its tokens on ≥ 95 % of its pages", async () => {
    const pages: Page[] = [];
    for await (const p of readPages(localSource(SAMPLE), { maxRecordBytes: 10 << 20, logger: nullLogger }, new WarcStats())) pages.push(p);
    let compared = 0;
    let covered = 0;
    for (const p of pages) {
      const full = extractPage({ body: p.body, contentType: p.contentType }, { limits: DEFAULT_LIMITS, filters: DEFAULT_FILTERS });
      if (!("ok" in full)) continue;
      const cheap = new Set(tokens(firstPass(p.body, p.contentType).text, 1e9));
      const want = tokens(full.ok.text, 1e9).filter((t) => t !== "$" && t !== "$$");
      if (want.length === 0) continue;
      compared++;
      if (want.filter((t) => cheap.has(t)).length >= 0.95 * want.length) covered++;
    }
    expect(compared).toBeGreaterThan(500);
    expect(covered / compared).toBeGreaterThanOrEqual(0.95);
  });

  it("never throws on any bytes, and stays linear on markup built to make patterns backtrack", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.option(fc.constantFrom("text/html", "text/html; charset=gbk", "text/html; charset=utf-16", "text/html; charset=bogus")), (bytes, ct) => {
        const f = firstPass(bytes, ct ?? undefined);
        expect(typeof f.text).toBe("string");
      }),
      { numRuns: 2000, seed: 7 },
    );
    const pieces = fc.constantFrom("<", ">", "<a", "<script", "</script>", "<!--", "-->", "<math", "</math>", "<img ", 'alt="', "src='", "latex", "&", "&amp;", "\"", "'", "x", " ", "<style", "<m:annotation encoding='application/x-tex'>");
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 300 }), (ps) => {
        expect(typeof cheapText(ps.join(""))).toBe("string");
      }),
      { numRuns: 2000, seed: 8 },
    );
    // each of these is 2 MB of one opener that never closes; a quadratic scan takes minutes
    for (const unit of ["<a", "<script", "<!--", "<math alttext='", "<img alt='latex ", "<img src=latex", "&amp", "<math><annotation encoding='application/x-tex'>"]) {
      const html = unit.repeat(Math.ceil(2_000_000 / unit.length));
      const t = performance.now();
      firstPass(Buffer.from(html));
      expect([unit, performance.now() - t < 2000]).toEqual([unit, true]);
    }
  });
});
