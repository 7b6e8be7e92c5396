/*
 * The first pass of [speed]'s candidate pool: a cheap text of a page's raw HTML, good enough for
 * the classifier's features and nothing else. No tree, no main content, no charset detection:
 *
 * - decoding: the HTTP or `<meta>` charset when one is named (non-fatal TextDecoder), else UTF-8;
 * - text: everything outside tags, less scripts, styles, comments, `<template>` and `<svg>`;
 * - math, captured in the same pass: MathJax's `<script type="math/tex">`, a `<math>` element's
 *   `alttext` or TeX annotation (its rendered tokens dropped), a TeX image's alt text or URL;
 * - the math signals of extract/signals over the same string.
 *
 * One regular expression walks the page; a page's cost is a few linear scans of its characters.
 */
import { TextDecoder } from "node:util";
import { decodeHTML } from "entities";
import { normaliseCharset } from "./charset.js";
import { imageTex, renderMath, scriptMathMode } from "./math.js";
import { mathSignals } from "./signals.js";

export interface FirstPass {
  /** The cheap text: words of the page with formulas as `$…$`, whitespace as found. */
  text: string;
  /** extract/signals' bit mask. */
  signals: number;
  /** The charset the bytes were read as. */
  charset: string;
}

const HTTP_CHARSET = /charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)/i;
const META_CHARSET = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)/i;

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) decoders.set(label, (d = new TextDecoder(label, { fatal: false })));
  return d;
}

/** The charset named by the HTTP header or a `<meta>` in the first 4 KiB (of `head`, the bytes as latin1); UTF-8 when none is, or it is unknown. */
function charsetOf(body: Uint8Array, head: string, contentType: string | undefined): string {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return "utf-8";
  const named = (contentType && HTTP_CHARSET.exec(contentType)?.[1]) || META_CHARSET.exec(head.slice(0, 4096))?.[1];
  const label = named ? normaliseCharset(named) : undefined;
  // utf-16 named in an ASCII-compatible page is read as UTF-8 (normaliseCharset maps it); a BOM says otherwise
  if (body[0] === 0xfe && body[1] === 0xff) return "utf-16be";
  if (body[0] === 0xff && body[1] === 0xfe) return "utf-16le";
  return label ?? "utf-8";
}

const CLOSERS: Record<string, RegExp> = {
  script: /<\/script\s*>/gi,
  style: /<\/style\s*>/gi,
  template: /<\/template\s*>/gi,
  svg: /<\/svg\s*>/gi,
  noembed: /<\/noembed\s*>/gi,
  math: /<\/(?:m:|mml:)?math\s*>/gi,
  comment: /-->/g,
};

const ALTTEXT = /\balttext\s*=\s*(["'])/i;
const TEX_ANNOTATION = /<(?:m:|mml:)?annotation\b[^<>]*encoding\s*=\s*["'](?:application\/x-tex|TeX|LaTeX)["'][^<>]*>/i;
const ANNOTATION_END = /<\/(?:m:|mml:)?annotation\s*>/gi;
const DISPLAY = /\bdisplay\s*=\s*["']?block/i;
const TYPE = /\btype\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/i;
const ATTR = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>"']+))/g;
const ENTITY = /&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g;

const unescape = (s: string) => (s.indexOf("&") < 0 ? s : s.replace(ENTITY, (e) => decodeHTML(e)));

/** Attribute values, entities left as they are (the whole text is unescaped at the end). */
function attrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  ATTR.lastIndex = 0;
  for (let m = ATTR.exec(s); m; m = ATTR.exec(s)) out[m[1]!.toLowerCase()] = m[3] ?? m[4] ?? m[5] ?? "";
  return out;
}

const formula = (tex: string, display: boolean) => " " + renderMath({ tex, display }) + " ";

/** A `<math>` element as TeX: its alttext, else its TeX annotation, else its tokens as words. */
function mathTex(attrText: string, body: string): string {
  const display = DISPLAY.test(attrText);
  // the quote's end by indexOf, not by a pattern: an unclosed quote costs one scan
  const alt = ALTTEXT.exec(attrText);
  const altEnd = alt ? attrText.indexOf(alt[1]!, alt.index + alt[0].length) : -1;
  const altTex = altEnd >= 0 ? attrText.slice(alt!.index + alt![0].length, altEnd) : "";
  if (altTex.trim()) return formula(altTex, display);
  const ann = TEX_ANNOTATION.exec(body);
  if (ann) {
    ANNOTATION_END.lastIndex = ann.index + ann[0].length;
    const end = ANNOTATION_END.exec(body);
    const tex = end ? body.slice(ann.index + ann[0].length, end.index) : "";
    if (tex.trim()) return formula(tex, display);
  }
  return " " + body.replace(/<[^<>]*>?/g, " ") + " ";
}

/** Elements whose content is not text: skipped to their closer (or the page's end). */
const RAW_TEXT = new Set(["script", "style", "template", "svg", "noembed"]);

const isLetter = (c: number) => (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;

/**
 * The kept pieces of `html`, entities not yet decoded. `raw`: `html` holds the page's bytes one
 * per character (latin1), and so does what this returns (TeX decoded from an image URL is
 * written back as its UTF-8 bytes).
 *
 * A scan from `<` to `<` by indexOf. A tag ends at its `>`, or at the next `<` when that comes
 * first. The next `>` is remembered until passed, and a closer not found is not looked for
 * again, so every page costs a few linear scans however its tags are broken (an unclosed
 * script or comment runs to the end, as in a browser).
 */
function walk(html: string, raw: boolean, maxText: number): string {
  const parts: string[] = [];
  let size = 0;
  const push = (x: string) => {
    parts.push(x);
    size += x.length;
  };
  const n = html.length;
  const unclosed = new Set<string>();
  // the end of the element opened at `from`, and where its body ends; -1: it is not closed
  const close = (kind: string, from: number): [number, number] => {
    if (unclosed.has(kind)) return [-1, -1];
    const re = CLOSERS[kind]!;
    re.lastIndex = from;
    const m = re.exec(html);
    if (!m) {
      unclosed.add(kind);
      return [-1, -1];
    }
    return [m.index, re.lastIndex];
  };
  let gt = -2; // the next '>' after the tag being read, once looked for; -1: none left
  let at = 0;
  let lt = html.indexOf("<");
  while (lt >= 0 && size < maxText) {
    const c = html.charCodeAt(lt + 1);
    if (!(isLetter(c) || c === 0x2f /* / */ || c === 0x21 /* ! */ || c === 0x3f) /* ? */) {
      lt = html.indexOf("<", lt + 1); // a '<' in text
      continue;
    }
    if (lt > at) push(html.slice(at, lt));
    const start = lt;
    let kind: string | undefined;
    if (c === 0x21 && html.startsWith("<!--", start)) kind = "comment";
    else if (isLetter(c)) {
      // the tag name, looked at only when it may be one of ours (script style svg template noembed math m:math mml:math img)
      let k = start + 1;
      while (k < n && k - start <= 9 && (isLetter(html.charCodeAt(k)) || html.charCodeAt(k) === 0x3a)) k++;
      const name = html.slice(start + 1, k).toLowerCase();
      const after = html.charCodeAt(k);
      const ends = !(isLetter(after) || (after >= 0x30 && after <= 0x39) || after === 0x2d || after === 0x5f);
      if (ends && (RAW_TEXT.has(name) || name === "img")) kind = name;
      else if (ends && (name === "math" || name === "m:math" || name === "mml:math")) kind = "math";
    }
    let tagEnd: number;
    if (kind === "comment") tagEnd = start + 4;
    else {
      // the tag's end: its '>', or the next '<' when that comes first
      if (gt !== -1 && gt <= start) gt = html.indexOf(">", start);
      const next = html.indexOf("<", start + 1);
      tagEnd = gt >= 0 && (next < 0 || gt < next) ? gt + 1 : next < 0 ? n : next;
    }
    at = tagEnd;
    if (kind === undefined) push(" ");
    else if (kind === "img") {
      const attrText = html.slice(start + 4, Math.min(tagEnd, start + 4 + 8192));
      // only an image that may carry TeX (math.ts imageTex: a latex/tex/math class, a TeX
      // service's URL) has its attributes read, and not past the first 8 KiB: the pattern backtracks
      const a = /tex|math|codecogs|cht=tx/i.test(attrText) ? attrs(attrText) : undefined;
      if (a?.alt) a.alt = unescape(a.alt);
      if (a?.src) a.src = unescape(a.src);
      const tex = a ? imageTex(a) : undefined;
      const f = tex ? formula(tex.tex, tex.display) : " ";
      push(raw ? Buffer.from(f, "utf8").toString("latin1") : f);
    } else {
      const attrText = kind === "comment" ? "" : html.slice(start, tagEnd);
      const [bodyEnd, end] = close(kind, tagEnd);
      if (kind === "math") {
        // not closed: the tag alone, its tokens read as text
        if (end < 0) push(" ");
        else push(mathTex(attrText, html.slice(tagEnd, bodyEnd)));
      } else if (kind === "script" && end >= 0) {
        // TeX of MathJax's math/tex scripts, nothing of any other
        const type = TYPE.exec(attrText.slice(0, 2048));
        const mode = type ? scriptMathMode(type[2] ?? type[3] ?? type[4]) : undefined;
        const body = html.slice(tagEnd, bodyEnd);
        push(mode && body.trim() ? formula(body, mode === "display") : " ");
      } else push(" ");
      // an unclosed raw-text element or comment runs to the end of the page
      at = end >= 0 ? end : kind === "math" ? tagEnd : n;
    }
    lt = at < n ? html.indexOf("<", at) : -1;
  }
  if (at < n && size < maxText) push(html.slice(at));
  return parts.join("");
}

/** The text of an HTML string (see the file's comment); the walk stops once it has `maxText` characters. */
export function cheapText(html: string, maxText = Infinity): string {
  return unescape(walk(html, false, maxText));
}

/**
 * The first pass over one page's body (its bytes as fetched, after any content encoding), of
 * at most `maxChars` bytes. The walk reads the bytes as latin1, which costs a copy, and only the
 * text it keeps is decoded in the page's charset: every ASCII-compatible charset puts its tags'
 * bytes where latin1 does. UTF-16 is decoded whole first.
 */
export function firstPass(body: Uint8Array, contentType?: string, maxChars = 4_000_000, maxText = Infinity, withSignals = true): FirstPass {
  const bytes = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, maxChars));
  const latin1 = bytes.toString("latin1");
  const charset = charsetOf(bytes, latin1, contentType);
  if (charset.startsWith("utf-16")) {
    const html = decoder(charset).decode(bytes);
    return { text: cheapText(html, maxText), signals: withSignals ? mathSignals(html) : 0, charset };
  }
  const kept = walk(latin1, true, maxText);
  const text = unescape(decoder(charset).decode(Buffer.from(kept, "latin1")));
  return { text, signals: withSignals ? mathSignals(latin1) : 0, charset };
}

/** Whether a page is a candidate: its first-pass score clears the bar, or it carries a math signal. */
export const isCandidate = (score: number, signals: number, bar: number): boolean => signals !== 0 || score >= bar;
