import fs from "node:fs";
import path from "node:path";
import { Tokenizer } from "htmlparser2";
import { describe, expect, it } from "vitest";
import { decodeBody } from "../../src/extract/charset.js";
import { FastTokenizer } from "../../src/extract/tokenizer.js";
import { ROOT, fixture, readAll } from "../helpers.js";

const CALLBACKS = [
  "onattribdata", "onattribentity", "onattribend", "onattribname", "oncdata", "onclosetag", "oncomment", "ondeclaration",
  "onend", "onopentagend", "onopentagname", "onprocessinginstruction", "onselfclosingtag", "ontext", "ontextentity",
] as const;

/** Every event a tokenizer class emits on `html` fed in pieces of `chunk` characters. */
function events(T: typeof Tokenizer, html: string, chunk: number): string[] {
  const out: string[] = [];
  const cbs = Object.fromEntries(CALLBACKS.map((n) => [n, (...a: unknown[]) => out.push(`${n}(${a.join(",")})`)]));
  const t = new T({ decodeEntities: true, recognizeSelfClosing: true }, cbs as unknown as ConstructorParameters<typeof Tokenizer>[1]);
  for (let i = 0; i < html.length; i += chunk) t.write(html.slice(i, i + chunk));
  t.end();
  return out;
}

function same(html: string, chunks = [1 << 30, 16_384, 7, 1]): void {
  for (const chunk of chunks) {
    const want = events(Tokenizer, html, chunk);
    expect(want.length).toBeGreaterThan(0);
    expect(events(FastTokenizer, html, chunk)).toEqual(want);
  }
}

describe("FastTokenizer emits exactly htmlparser2's events", () => {
  it("on the golden extraction fixtures, in pieces of any size", () => {
    const files = fs.readdirSync(fixture("extract")).filter((f) => f.endsWith(".html"));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) same(fs.readFileSync(fixture("extract", f), "utf8"));
  });

  it("on every page of the bundled crawl", async () => {
    const { pages } = await readAll(path.join(ROOT, "data", "crawl-sample.warc.gz"));
    expect(pages.length).toBeGreaterThan(500);
    for (const p of pages) {
      const d = decodeBody(Buffer.from(p.body), p.contentType);
      if (!("error" in d)) same(d.text, [16_384, 97]);
    }
  });

  it("on hand-made edge cases and random markup", () => {
    const cases = [
      "", "plain text only", "a < b & c > d", "<p class=x data-a='1' b=\"2&amp;3\" c=4&lt;5 d>t&eacute;xt&#x3b1;</p>",
      "<script>if (a<b && c>d) {}</script><style>a>b{}</style>", "<script>x</scrip</script>", "<!-- a -- b --><!---->", "<!DOCTYPE html><?xml x?>",
      "<![CDATA[ x ]]>", "<title>a &amp; b</title><textarea>&lt;</textarea>", "<a href='x'/><br/><img src=x / >", "</ p></>< p>", "<p\tid=\"a\"\n\r\fclass='b'>x",
      "unterminated <div class=\"abc", "unterminated <div cla", "<plaintext>a<b>c", "&", "&amp", "&#", "a&b=c&d", "<svg><path d='M0 0'/></svg><math><mi>x</mi></math>",
    ];
    for (const c of cases) same(c);
    // random strings over the characters that change the tokenizer's state
    const alphabet = ["<", ">", "/", "=", '"', "'", "&", "amp;", "#38;", " ", "\n", "!", "-", "--", "?", "[", "]", "a", "p", "div", "script", "style", "title", "x", "é", "𝛼"];
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    for (let k = 0; k < 2000; k++) {
      let s = "";
      const len = 1 + rand(60);
      for (let i = 0; i < len; i++) s += alphabet[rand(alphabet.length)];
      for (const chunk of [1 << 30, 5, 1]) expect(events(FastTokenizer, s, chunk)).toEqual(events(Tokenizer, s, chunk));
    }
  });
});
