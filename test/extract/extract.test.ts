import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decodeBody } from "../../src/extract/charset.js";
import { type ExtractOptions, extractHtml, extractPage } from "../../src/extract/extract.js";
import { DEFAULT_FILTERS, checkText, countChars } from "../../src/extract/filters.js";
import { imageTex } from "../../src/extract/math.js";
import { DEFAULT_LIMITS } from "../../src/extract/tree.js";
import { fixture, readAll } from "../helpers.js";

const NO_FILTERS: ExtractOptions = { limits: DEFAULT_LIMITS, filters: { minChars: 0, minTextRatio: 0, minWordShare: 0 } };
const dir = fixture("extract");

function textOf(file: string, contentType?: string): string {
  const r = extractPage({ body: fs.readFileSync(path.join(dir, file)), contentType }, NO_FILTERS);
  if (!("ok" in r)) throw new Error(`${file}: dropped ${"drop" in r ? r.drop : "outside"}`);
  return r.ok.text + "\n";
}

describe("golden files: every math markup kind and legacy charsets", () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".html"));
  for (const f of files) {
    it(f, () => {
      expect(textOf(f)).toBe(fs.readFileSync(path.join(dir, f.replace(/\.html$/, ".txt")), "utf8"));
    });
  }

  it("covers each markup kind (so a regression shows in a named file)", () => {
    expect(files).toEqual(expect.arrayContaining(["mathjax2.html", "katex.html", "readability-mathjax3.html", "mathml.html", "imgtex.html", "inline-dollar.html", "readability-wikipedia-3.html", "planetmath-AbundantNumber.html"]));
  });

  it("Chinese and Russian pages in legacy charsets from a real Common Crawl WARC", async () => {
    const { pages } = await readAll(fixture("warc", "CC-MAIN-2020-34-excerpt.resiliparse.warc.gz"));
    for (const offset of [12685, 42891, 110823]) {
      const p = pages.find((x) => x.offset === offset)!;
      const r = extractPage({ body: p.body, contentType: p.contentType }, NO_FILTERS);
      expect("ok" in r && r.ok.text + "\n").toBe(fs.readFileSync(path.join(dir, `cc-2020-34-${offset}.txt`), "utf8"));
    }
  });
});

describe("math forms", () => {
  it("MathJax 2: script TeX kept, rendered spans and previews dropped", () => {
    const t = textOf("mathjax2.html");
    expect(t).toContain("For $a \\ne 0$, the equation $ax^2 + bx + c = 0$ has");
    expect(t).toContain("$$x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}.$$");
    expect(t).not.toMatch(/a≠0|−b ±/);
    expect(t).not.toMatch(/Home|Copyright/);
  });

  it("KaTeX and MathJax 3: TeX annotation or MathML taken once, rendered HTML dropped", () => {
    const k = textOf("katex.html");
    expect(k).toContain("$e^{i\\theta} = \\cos\\theta + i\\sin\\theta$");
    expect(k).toContain("$$e^{i\\pi} + 1 = 0$$");
    expect(k).not.toMatch(/e iπ|θ=π/);
    const m = textOf("readability-mathjax3.html");
    expect(m).toContain("$a \\neq 0$");
    expect(m).toMatch(/\$\$x = \\frac\{- b \\pm \\sqrt\{b\^\{2\} - 4 a c\}\}\{2 a\}/);
  });

  it("LaTeXML: alttext kept, MathML and hidden concept links dropped", () => {
    const t = textOf("planetmath-ABIsConjugateToBA.html");
    expect(t).toContain("$A^{-1}ABA=BA$");
    expect(t).not.toMatch(/Mathworld|Planetmath/);
  });

  it("TeX images: wp-latex alt, codecogs, mimetex, Google chart; decorative images ignored", () => {
    expect(imageTex({ class: "latex", alt: "\\int_0^1 x", src: "x.png" })).toEqual({ tex: "\\int_0^1 x", display: false });
    expect(imageTex({ src: "https://latex.codecogs.com/png.latex?a+b" })?.tex).toBe("a+b");
    expect(imageTex({ src: "https://s0.wp.com/latex.php?latex=a+%2B+b&bg=fff" })?.tex).toBe("a + b");
    expect(imageTex({ src: "/logo.png", alt: "Site logo" })).toBeUndefined();
    expect(imageTex({ class: "mwe-math-fallback-image-display", alt: "{\\displaystyle x}" })).toEqual({ tex: "{\\displaystyle x}", display: true });
  });

  it("TeX already in the text stays verbatim; entities are decoded exactly once", () => {
    const t = textOf("inline-dollar.html");
    expect(t).toContain("$\\sum_{k=1}^n k^2 = \\frac{n(n+1)(2n+1)}{6}$");
    expect(t).toContain("\\[ \\sum_{k=1}^{n+1} k^2");
    expect(t).toContain("$$a < b \\quad\\text{and}\\quad b > c$$");
    expect(t).toContain("&lt; stays as text");
    expect(t).toContain("\\begin{align}\n  x &= 1 \\\\\n  y &= 2\n\\end{align}");
  });

  it("bare MathML is converted", () => {
    expect(textOf("mathml.html")).toContain("$$\\sum_{k = 1}^{n} k = \\frac{n \\left(n + 1\\right)}{2}$$");
  });
});

describe("main text", () => {
  it("drops nav, footer, scripts and styles; keeps headings, lists, tables as rows, pre blocks", () => {
    const html = `<html><head><style>p{}</style><script>var x=1</script></head><body>
      <nav><ul><li><a href="/">Home</a></li><li><a href="/x">Other</a></li></ul></nav>
      <div class="article-body"><h2>Prime numbers</h2><p>A prime has exactly two divisors, one and itself, and there are infinitely many of them, as Euclid showed.</p>
      <ul><li>2 is the only even prime</li><li>3, 5 and 7 are odd primes</li></ul>
      <table><tr><th>n</th><th>p(n)</th></tr><tr><td>1</td><td>2</td></tr></table>
      <pre>  indented
    code</pre></div><footer>© 2020 Footer text</footer></body></html>`;
    expect(extractHtml(html).text).toBe(
      "Prime numbers\nA prime has exactly two divisors, one and itself, and there are infinitely many of them, as Euclid showed.\n2 is the only even prime\n3, 5 and 7 are odd primes\nn | p(n)\n1 | 2\n  indented\n    code",
    );
  });

  it("an article nested in an unclosed <header> (broken markup) is still found", () => {
    const html = `<body><header class="header"><div>Menu</div><main><p>${"Real article sentence with words, commas, and more. ".repeat(8)}</p></main></body>`;
    expect(extractHtml(html).text).toContain("Real article sentence");
  });
});

describe("charsets", () => {
  const enc = (s: string) => Buffer.from(s, "latin1");
  it("BOM, then HTTP charset, then meta, then UTF-8 validity, then detection", () => {
    expect(decodeBody(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("<p>é</p>")]), "text/html; charset=iso-8859-1")).toMatchObject({ charset: "utf-8", source: "bom" });
    expect(decodeBody(enc("<p>caf\xe9</p>"), "text/html; charset=windows-1252")).toMatchObject({ text: "<p>café</p>", source: "http" });
    expect(decodeBody(enc('<meta charset="iso-8859-2"><p>\xb1</p>'), "text/html")).toMatchObject({ text: '<meta charset="iso-8859-2"><p>ą</p>', source: "meta" });
    expect(decodeBody(Buffer.from("<p>日本</p>"), undefined)).toMatchObject({ charset: "utf-8", source: "utf8" });
  });

  it("a wrong declaration loses to the bytes (UTF-8 page declared Latin-1, and the reverse)", () => {
    expect(decodeBody(Buffer.from("<p>naïve café</p>"), "text/html; charset=iso-8859-1")).toMatchObject({ text: "<p>naïve café</p>", charset: "utf-8" });
    const latin = decodeBody(enc("<p>na\xefve caf\xe9 cr\xe8me br\xfbl\xe9e d\xe9j\xe0 vu</p>"), "text/html; charset=utf-8");
    expect("text" in latin && latin.text).toBe("<p>naïve café crème brûlée déjà vu</p>");
  });

  it("UTF-8 parsed as bytes gives the same page as the decoded string: text, attributes, TeX, title, piece edges, cut", () => {
    // non-ASCII in text, entities, a class name, a TeX image's alt, MathML, a MathJax script,
    // the title; long enough that multi-byte characters straddle the 16 KiB feeding pieces
    const filler = Array.from({ length: 400 }, (_, i) => `<p class="para-é">Ünïcode ${i}: α≤β, 𝔽 and café &amp; naïve — ${"ж".repeat(i % 7)}</p>`).join("\n");
    const html = `<html><head><title>Théorème — 定理</title></head><body><article class="контент">
<h1>Théorème de Pythagore</h1><p>Soit <img class="latex" alt="a^2+b^2=c^2 ∀ triangle" src="x.png"> où α est l'angle.</p>
<math><mi>∑</mi><mo>≤</mo><mi>π</mi></math><script type="math/tex; mode=display">\\int_0^∞ e^{-x²}</script>
${filler}</article></body></html>`;
    const body = Buffer.from(html, "utf8");
    const d = decodeBody(body, "text/html; charset=utf-8", undefined, true);
    expect(d).toMatchObject({ charset: "utf-8", bytes: true });
    const viaBytes = extractPage({ body, contentType: "text/html; charset=utf-8" }, NO_FILTERS);
    const viaString = extractPage({ body: html }, NO_FILTERS);
    expect("ok" in viaBytes && "ok" in viaString).toBe(true);
    if (!("ok" in viaBytes) || !("ok" in viaString)) return;
    expect(viaBytes.ok.text).toBe(viaString.ok.text);
    expect(viaBytes.ok.title).toBe("Théorème — 定理");
    expect(viaBytes.ok.text).toContain("a^2+b^2=c^2 ∀ triangle");
    expect(viaBytes.ok.text).toContain("\\int_0^∞ e^{-x²}");
    expect(viaBytes.ok.text).toContain("café & naïve");
    // the parse cap counts characters either way (not bytes); cuts inside a surrogate pair aside
    const latin = body.toString("latin1");
    for (const maxChars of [150, 151, 152, 999, 20_000, 20_001, 20_002]) {
      const limits = { ...DEFAULT_LIMITS, maxChars };
      const a = extractHtml(html, limits);
      const b = extractHtml(latin, limits, true);
      expect(b.truncated).toBe(true);
      expect(b.text).toBe(a.text);
    }
    // a two-byte character across the first piece's end (byte 16,384, so that piece ends at
    // 16,385) and a four-byte one across the second's (16,385 + 16,384)
    const head = "<html><body><article><p>";
    const pad1 = 16_383 - Buffer.byteLength(head);
    const mid = `é and some prose.</p><p>${"y".repeat(16_384 - 2 - 1 - 22)}`;
    const edge = `${head}${"x".repeat(pad1)}${mid}𝔽 end of the article, which is long enough to keep.</p></article></body></html>`;
    const eb = Buffer.from(edge, "utf8");
    expect([eb[16_383], eb[16_384]]).toEqual([0xc3, 0xa9]);
    const f = eb.indexOf(Buffer.from("𝔽"));
    expect(f < 32_769 && f + 4 > 32_769).toBe(true);
    const e = extractPage({ body: eb, contentType: "text/html; charset=utf-8" }, NO_FILTERS);
    expect("ok" in e && e.ok.text).toBe(extractHtml(edge).text);
    expect("ok" in e && e.ok.text).toContain("xé and some prose.");
    expect("ok" in e && e.ok.text).toContain("y𝔽 end of the article");
    // plain ASCII needs no decoding
    expect(decodeBody(Buffer.from("<p>plain</p>"), undefined, undefined, true)).toEqual({ text: "<p>plain</p>", charset: "utf-8", source: "utf8" });
  });

  it("binary bytes are refused as undecodable, not written as mojibake", () => {
    const bytes = Buffer.alloc(4000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const r = extractPage({ body: bytes, contentType: "text/html; charset=utf-8" }, NO_FILTERS);
    expect(r).toMatchObject({ drop: "undecodable" });
  });
});

describe("filters and caps", () => {
  it("too_short, low_text_ratio, mostly_non_text with their reasons", () => {
    expect(checkText("short", 100, DEFAULT_FILTERS)).toBe("too_short");
    expect(checkText("x".repeat(200), 1_000_000, DEFAULT_FILTERS)).toBe("low_text_ratio");
    expect(checkText("| -- | ++ | ** | ".repeat(20), 1000, DEFAULT_FILTERS)).toBe("mostly_non_text");
    expect(checkText("A short math page: $x^2+y^2=z^2$ has many integer solutions, called Pythagorean triples.", 5000, DEFAULT_FILTERS)).toBe("too_short");
    expect(checkText("Let $G$ be a group and $H \\le G$ a subgroup; then $|H|$ divides $|G|$ (Lagrange's theorem) when $G$ is finite.", 5000, DEFAULT_FILTERS)).toBeUndefined();
  });

  it("the one-pass character count is the regex count it replaced (any script, astral and lone surrogates)", () => {
    const texts = ["héllo wörld 中文 𝔸𝔹 \u00a0\u3000\u2028\ufeff 12 ½ ٣ x\ud800y \udc00 $a$", "", "   ", "ÅΩж\u0301"];
    for (const f of fs.readdirSync(fixture("extract")).filter((x) => x.endsWith(".txt"))) texts.push(fs.readFileSync(fixture("extract", f), "utf8"));
    for (const t of texts) {
      const nonSpace = t.replace(/\s+/g, "");
      expect(countChars(t)).toEqual([nonSpace.length, (nonSpace.match(/[\p{L}\p{N}]/gu) ?? []).length]);
    }
  });

  it("a 50 MB page costs bounded time (parse is capped and the page marked truncated)", () => {
    const para = `<p>${"word ".repeat(200)}</p>`;
    const html = `<html><body><div class="content">${para.repeat(Math.ceil((50 << 20) / para.length))}</div></body></html>`;
    const t0 = Date.now();
    const r = extractHtml(html);
    expect(r.truncated).toBe(true);
    expect(r.text.length).toBeGreaterThan(100_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("100,000-deep nesting and invalid bytes neither crash nor hang", () => {
    const deep = "<div>".repeat(100_000) + "<p>deep text that is long enough to be kept as a paragraph of content</p>" + "</div>".repeat(100_000);
    const t0 = Date.now();
    const deepResult = extractHtml(deep);
    expect(deepResult.truncated).toBe(true); // parsing stops where nesting passes 4,096 open elements
    expect(Date.now() - t0).toBeLessThan(1_000);
    const moderate = "<div>".repeat(1000) + "<p>deep text that is long enough to be kept as a paragraph of content</p>" + "</div>".repeat(1000);
    expect(extractHtml(moderate).text).toContain("deep text");
    const junk = Buffer.concat([Buffer.from("<html><body><p>"), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256)), Buffer.from("</p></body></html>")]);
    const r = extractPage({ body: junk, contentType: "text/html" }, NO_FILTERS);
    expect("ok" in r || ("drop" in r && r.drop === "undecodable")).toBe(true);
  });
});

describe("extraction workers", () => {
  it("get a 128 MB young generation, less with many workers on little memory, never below V8's 48 MB", async () => {
    const { youngGenerationMb } = await import("../../src/extract/pool.js");
    const GB = 2 ** 30;
    expect(youngGenerationMb(2, 24 * GB)).toBe(128);
    expect(youngGenerationMb(64, 64 * GB)).toBe(64);
    expect(youngGenerationMb(16, 4 * GB)).toBe(48);
    expect(youngGenerationMb(0, 1 * GB)).toBe(64);
  });
});
