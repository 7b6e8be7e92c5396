import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SIGNALS, mathSignals, signalNames } from "../../src/extract/signals.js";

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
});
