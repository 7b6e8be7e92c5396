import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nullLogger } from "../../src/core/log.js";
import { COMMANDS, MARKUP, SIGNALS, markupSignal, mathSignals, signalNames } from "../../src/extract/signals.js";
import { WarcStats, readPages } from "../../src/warc/pages.js";
import { localSource } from "../../src/warc/source.js";

/** The bundled sample crawl's payloads, as latin1 text. */
async function crawlPages(): Promise<string[]> {
  const pages: string[] = [];
  const crawl = new URL("../../data/crawl-sample.warc.gz", import.meta.url).pathname;
  for await (const p of readPages(localSource(crawl), { maxRecordBytes: 8 << 20, logger: nullLogger }, new WarcStats())) pages.push(p.body.toString("latin1"));
  return pages;
}

/** Checks that `bits` of mathSignals match `reference` on every page of the bundled crawl; the pages, and how many the reference flags. */
async function agreeOnCrawl(bits: number, reference: (s: string) => number): Promise<{ pages: string[]; flagged: number }> {
  const pages = await crawlPages();
  let flagged = 0;
  for (const p of pages) {
    const want = reference(p);
    if (want) flagged++;
    expect(mathSignals(p) & bits).toBe(want);
  }
  return { pages, flagged };
}

const names = (html: string) => signalNames(mathSignals(Buffer.from(html, "latin1")));

describe("math signals in raw HTML", () => {
  it("finds each signal, in any case, where it is written", () => {
    expect(names('<p>Let <math xmlns="http://www.w3.org/1998/Math/MathML"><mi>x</mi></math></p>')).toEqual(["mathml"]);
    expect(names("<m:math><m:mi>x</m:mi></m:math>")).toEqual(["mathml"]);
    expect(names('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>')).toEqual(["mathjax"]);
    expect(names("<script>window.MathJax = { tex: {} };</script>")).toEqual(["mathjax"]);
    expect(names('<link rel="stylesheet" href="/css/KaTeX.min.css">')).toEqual(["katex"]);
    expect(names('<script type="math/tex; mode=display">x^2</script>')).toEqual(["tex_script"]);
    expect(names('<annotation encoding="application/x-tex">x^2</annotation>')).toEqual(["tex_annotation"]);
    expect(names('<img src="https://latex.codecogs.com/gif.latex?x^2">')).toEqual(["tex_image"]);
    expect(names('<img src="/cgi-bin/mimetex.cgi?x^2">')).toEqual(["tex_image"]);
    expect(names('<img src="https://s0.wp.com/latex.php?latex=x%5E2&bg=ffffff">')).toEqual(["tex_image"]);
    expect(names("<p>so $\\frac{a}{b} \\leq \\sqrt{c}$ holds</p>")).toEqual(["tex_commands"]);
  });

  it("does not take prose and code for math", () => {
    expect(mathSignals(Buffer.from("<html><body><p>Mathematics is fun; the mathematician said so.</p><mathematics/></body></html>"))).toBe(0);
    // Python's email.mime.text.MIMEText is not mimetex
    expect(mathSignals(Buffer.from("<code>from email.mime.text import MIMEText</code>"))).toBe(0);
    // one TeX command, or the same one twice, is not enough: `\\left(` turns up in regular expressions
    expect(mathSignals(Buffer.from("<script>var re = /\\left(/; var r2 = /\\left(/;</script>"))).toBe(0);
    expect(mathSignals(Buffer.from("C:\\alpha\\file.txt"))).toBe(0);
    expect(names("C:\\alpha\\beta")).toEqual(["tex_commands"]);
  });

  it("never throws on any bytes, gives a mask of known signals, and finds a signal inserted anywhere", () => {
    const full = (1 << SIGNALS.length) - 1;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const m = mathSignals(Buffer.from(bytes));
        expect(m & ~full).toBe(0);
      }),
      { numRuns: 2000, seed: 1 },
    );
    const planted: Array<[string, string]> = [
      ["mathml", "<math>"],
      ["mathjax", "MathJax"],
      ["katex", "katex"],
      ["tex_script", "math/tex"],
      ["tex_annotation", "application/x-tex"],
      ["tex_image", "codecogs.com"],
    ];
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), fc.nat(), fc.constantFrom(...planted), (text, at, [signal, needle]) => {
        const i = at % (text.length + 1);
        expect(names(text.slice(0, i) + needle + text.slice(i))).toContain(signal);
      }),
      { numRuns: 2000, seed: 2 },
    );
  });

  it("the skip scan finds what MARKUP with /gi finds, on text made of the needles' pieces and on real pages", async () => {
    // the markup part of the mask as a plain /gi loop over MARKUP gives it
    const markupBits = (1 << SIGNALS.indexOf("tex_commands")) - 1;
    const reference = (s: string) => {
      let mask = 0;
      MARKUP.lastIndex = 0;
      for (let m = MARKUP.exec(s); m; m = MARKUP.exec(s)) mask |= 1 << SIGNALS.indexOf(markupSignal(m[0]));
      return mask;
    };
    const needles = ["<math>", "<math ", "<m:math\n", "<mml:math>", "mathjax", "katex", "math/tex", "text/x-latex", "application/x-tex", "codecogs.com", "mimetex.cgi", "mathtex.cgi", "latex.php", "quicklatex", "cht=tx", ".latex?"];
    // pieces: whole needles, their prefixes and suffixes, overlapping joins, other characters (some above 255, four of them with a needle character as their low byte)
    const piece = fc.oneof(
      fc.constantFrom(...needles),
      fc.tuple(fc.constantFrom(...needles), fc.nat()).map(([n, k]) => n.slice(0, 1 + (k % n.length))),
      fc.tuple(fc.constantFrom(...needles), fc.nat()).map(([n, k]) => n.slice(k % n.length)),
      fc.constantFrom("<", "m", "a", "t", "h", "x", ":", " ", ">", "/", ".", "l", "ſ", "K", "\u212a", "ü", "\u0130", "\u013c", "\u016d", "\u0161", "\u0174"),
      fc.string({ maxLength: 6 }),
    );
    const flip = (s: string, seed: number) => [...s].map((c, i) => ((seed >> i % 31) & 1 ? c.toUpperCase() : c)).join("");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.integer(), (pieces, seed) => {
        const s = flip(pieces.join(""), seed);
        expect(mathSignals(s) & markupBits).toBe(reference(s));
      }),
      { numRuns: 20000, seed: 3 },
    );
    // real pages
    const { pages, flagged } = await agreeOnCrawl(markupBits, reference);
    expect(pages.length).toBeGreaterThan(100);
    expect(flagged).toBeGreaterThan(10);
  });
  it("the backslash scan finds two different TeX commands where a /g loop over COMMANDS does, on text made of their pieces and on real pages", async () => {
    const commandBit = 1 << SIGNALS.indexOf("tex_commands");
    // the reference: the /g loop the scan replaced
    const reference = (s: string) => {
      COMMANDS.lastIndex = 0;
      let first: string | undefined;
      for (let m = COMMANDS.exec(s); m; m = COMMANDS.exec(s)) {
        if (first === undefined) first = m[0];
        else if (m[0] !== first) return commandBit;
      }
      return 0;
    };
    const commands = ["\\frac{", "\\sqrt{", "\\sum_", "\\int_", "\\mathbb{", "\\left(", "\\right)", "\\cdot", "\\leq", "\\alpha", "\\begin{equation", "\\begin{align", "\\lim_", "\\mathcal{"];
    // pieces: whole commands, cut ones, backslashes alone and doubled, escapes that are not commands, other characters (some above 255)
    const piece = fc.oneof(
      fc.constantFrom(...commands),
      fc.tuple(fc.constantFrom(...commands), fc.nat()).map(([c, k]) => c.slice(0, 1 + (k % c.length))),
      fc.tuple(fc.constantFrom(...commands), fc.nat()).map(([c, k]) => c.slice(k % c.length)),
      fc.constantFrom("\\", "\\\\", "\\/", "\\n", "\\u003c", "\\Frac{", "\\\u0101", "{", "_", "(", " ", "x", "ſ"),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const s = pieces.join("");
        expect(mathSignals(s) & commandBit).toBe(reference(s));
      }),
      { numRuns: 20000, seed: 4 },
    );
    const { pages, flagged } = await agreeOnCrawl(commandBit, reference);
    // the bundled crawl has pages with TeX commands and pages with backslashes that are not (scripts' escapes)
    expect(flagged).toBeGreaterThan(5);
    expect(pages.filter((p) => p.includes("\\") && !reference(p)).length).toBeGreaterThan(10);
  });
});
