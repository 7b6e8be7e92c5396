import { type MathToken, imageTex, mathmlToTex, scriptMathMode } from "./math.js";
import { LeanParser } from "./parser.js";

/**
 * A light document tree built in one streaming pass of htmlparser2: only what text
 * extraction needs (tag, class/id words, children, text and formulas). Invisible and
 * boilerplate elements are skipped while parsing; formulas are captured as TeX in every form
 * a page carries them (MathJax script tags, MathML alttext or TeX annotation, TeX images),
 * and their rendered duplicates (MathJax/KaTeX HTML output) are dropped.
 */
export interface El {
  tag: string;
  /** Lower-cased class and id words. */
  names: string;
  parent: El | null;
  children: Node[];
  /** Text measurements of content selection (extract/content), set on the element itself. */
  stats: ElStats | null;
}

/** Per-element text measurements (extract/content): characters, link characters, commas, score. */
export interface ElStats {
  text: number;
  link: number;
  commas: number;
  score: number;
  scored: boolean;
}
export type Node = El | string | MathToken;

export const isEl = (n: Node): n is El => typeof n === "object" && "tag" in n;
export const isMath = (n: Node): n is MathToken => typeof n === "object" && "tex" in n;

export interface TreeLimits {
  /** HTML past this many characters is not parsed. */
  maxChars: number;
  /** Deeper elements are flattened into their ancestor at this depth. */
  maxDepth: number;
  /** Elements past this count are flattened into their parent. */
  maxElements: number;
}

export const DEFAULT_LIMITS: TreeLimits = { maxChars: 4_000_000, maxDepth: 256, maxElements: 200_000 };

const SKIP_TAGS = new Set([
  "script", "style", "title", "template", "svg", "iframe", "object", "embed", "canvas",
  "select", "option", "button", "input", "textarea", "audio", "video", "map", "dialog", "link", "meta",
]);
/** Open elements at which parsing stops (real pages nest a few hundred deep at most). */
const MAX_OPEN = 4096;
/** Characters fed to the parser at a time, between nesting checks. */
const FEED = 16_384;

/** Largest MathML (characters of markup) converted to LaTeX when it carries no TeX. */
const MAX_MATHML = 50_000;
/**
 * Deepest MathML converted. mathml-to-latex's time grows much faster than the markup with
 * nesting: a `<math>` nested 1,000 deep through `annotation-xml` (46 KB) took 47 s and 1.4 GB;
 * real formulas nest a few dozen deep. A `<math>` inside a `<math>` (invalid, but in the wild)
 * is read as its children, which keeps the converter on its linear path.
 */
export const MAX_MATHML_DEPTH = 64;
/** The attributes read here and in math.ts imageTex; the parser keeps no others (outside MathML). */
export const READ_ATTRIBUTES: ReadonlySet<string> = new Set(["class", "id", "style", "hidden", "aria-hidden", "role", "type", "display", "mode", "alttext", "encoding", "alt", "src", "data-src"]);
const VOID_TAGS = new Set(["br", "hr", "img", "area", "base", "col", "input", "link", "meta", "param", "source", "track", "wbr", "embed"]);

/** Rendered math that duplicates TeX kept elsewhere (MathJax 2/3 output, KaTeX HTML, previews). */
const RENDERED_MATH = /(^|\s)(mathjax|mathjax_preview|mathjax_display|mathjax_svg|mathjax_chtml|mathjax_svg_display|mjx-chtml|katex-html|mjpage)(\s|$)/;
function names(attrs: Record<string, string>): string {
  const c = attrs.class;
  const id = attrs.id;
  if (!c && !id) return "";
  return `${c ?? ""} ${id ?? ""}`.toLowerCase().trim();
}

/** Every RENDERED_MATH word holds one of these: most elements skip the regex. */
const mayBeRenderedMath = (n: string) => n.includes("math") || n.includes("mjx") || n.includes("katex") || n.includes("mjpage");

function isHidden(attrs: Record<string, string>): boolean {
  if ("hidden" in attrs) return true;
  const style = attrs.style;
  if (style && /(^|;)\s*(display\s*:\s*none|visibility\s*:\s*hidden)/i.test(style)) return true;
  return false;
}

interface Frame {
  tag: string;
  el: El | null;
  /** Inside an element whose content is not kept. */
  skip: boolean;
  mathScript?: "inline" | "display";
}

/** Where, in a string of UTF-8 bytes, the first `chars` UTF-16 characters of its text end. */
function utf8Cut(bytes: string, chars: number): number {
  if (bytes.length <= chars) return bytes.length;
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    n += b >= 0xf0 ? 2 : 1; // four-byte sequences are surrogate pairs
    if (n > chars) return i;
  }
  return bytes.length;
}

/**
 * Builds the tree; `title` is the document's <title>. `bytes`: `html` holds UTF-8 bytes one
 * per character (charset.ts decodeBody with `raw`); the parser decodes the text and attribute
 * values it passes on, so the tree is the same as from the decoded string.
 */
export function buildTree(html: string, limits: TreeLimits = DEFAULT_LIMITS, bytes = false): { root: El; title: string; truncated: boolean } {
  const root: El = { tag: "root", names: "", parent: null, children: [], stats: null };
  const stack: Frame[] = [{ tag: "root", el: root, skip: false }];
  let current: El = root;
  let depth = 0;
  let elements = 0;
  let title = "";
  let inTitle = false;
  let scriptText = "";
  /** MathJax 3 says display on its container, not on the MathML inside. */
  let mathDisplayHint = false;
  // MathML capture: markup for conversion, TeX annotation if any
  let math: { display: boolean; markup: string[]; tex: string | null; inAnnotation: boolean; depth: number; tooDeep: boolean } | null = null;

  const top = () => stack[stack.length - 1]!;
  const addText = (t: string) => {
    const kids = current.children;
    const last = kids[kids.length - 1];
    if (typeof last === "string") kids[kids.length - 1] = last + t;
    else kids.push(t);
  };

  const parser: LeanParser = new LeanParser(
    {
      onopentag(name, attrs) {
        const parent = top();
        if (math) {
          math.depth++;
          if (math.depth > MAX_MATHML_DEPTH) math.tooDeep = true;
          if (name === "annotation" && /x-tex|latex/i.test(attrs.encoding ?? "")) math.inAnnotation = true;
          if (!math.tooDeep && name !== "annotation" && name !== "annotation-xml" && name !== "math") {
            math.markup.push(`<${name}${Object.entries(attrs).map(([k, v]) => ` ${k}="${v.replace(/"/g, "&quot;")}"`).join("")}>`);
          }
          stack.push({ tag: name, el: null, skip: true });
          return;
        }
        if (name === "title" && !title) inTitle = true;
        if (parent.skip) {
          stack.push({ tag: name, el: null, skip: true });
          return;
        }
        if (name === "script") {
          const mode = scriptMathMode(attrs.type);
          scriptText = "";
          stack.push({ tag: name, el: null, skip: true, ...(mode ? { mathScript: mode } : {}) });
          return;
        }
        if (name === "math") {
          const display = (attrs.display ?? "").toLowerCase() === "block" || (attrs.mode ?? "").toLowerCase() === "display" || mathDisplayHint;
          const alt = attrs.alttext;
          if (alt && alt.trim()) {
            current.children.push({ tex: alt, display });
            stack.push({ tag: name, el: null, skip: true });
            math = null;
            // skip the MathML subtree: its TeX is in alttext
            return;
          }
          math = { display, markup: ["<math>"], tex: null, inAnnotation: false, depth: 0, tooDeep: false };
          parser.keepAll = true; // the MathML markup is converted with all its attributes
          stack.push({ tag: name, el: null, skip: true });
          return;
        }
        const n = names(attrs);
        if (name === "img" && !isHidden(attrs)) {
          // a TeX image counts even when aria-hidden (Wikipedia hides its fallback image from
          // screen readers and its MathML from view)
          stack.push({ tag: name, el: null, skip: false });
          const m = imageTex(attrs);
          if (m) current.children.push(m);
          return;
        }
        if (name === "mjx-container") mathDisplayHint = attrs.display === "true" || attrs.display === "block";
        // every open tag pushes one frame: htmlparser2 closes void elements with onclosetag too
        const renderedMath = n !== "" && mayBeRenderedMath(n) && RENDERED_MATH.test(n) && !name.startsWith("mjx-");
        if (SKIP_TAGS.has(name) || isHidden(attrs) || renderedMath || (attrs["aria-hidden"] === "true" && name !== "body")) {
          stack.push({ tag: name, el: null, skip: true });
          return;
        }
        if (VOID_TAGS.has(name)) {
          stack.push({ tag: name, el: null, skip: false });
          if (name === "br") {
            addText("\n");
          } else if (name === "hr") {
            current.children.push({ tag: "hr", names: "", parent: current, children: [], stats: null });
          }
          return;
        }
        if (depth >= limits.maxDepth || elements >= limits.maxElements) {
          stack.push({ tag: name, el: null, skip: false });
          return;
        }
        const role = attrs.role ? ` role-${attrs.role.toLowerCase()}` : "";
        const el: El = { tag: name, names: n + role, parent: current, children: [], stats: null };
        current.children.push(el);
        current = el;
        depth++;
        elements++;
        stack.push({ tag: name, el, skip: false });
      },
      ontext(text) {
        const f = top();
        if (inTitle) title += text;
        if (math) {
          if (math.inAnnotation) math.tex = (math.tex ?? "") + text;
          else if (!math.tooDeep) math.markup.push(text.replace(/&/g, "&amp;").replace(/</g, "&lt;"));
          return;
        }
        if (f.mathScript) {
          scriptText += text;
          return;
        }
        if (f.skip) return;
        addText(text);
      },
      onclosetag(name) {
        const f = stack.pop();
        if (!f) return;
        if (name === "title") inTitle = false;
        if (math) {
          if (f.tag === "annotation") math.inAnnotation = false;
          if (f.tag === "math" && math.depth === 0) {
            math.markup.push("</math>");
            const markup = math.markup.join("");
            // conversion cost grows with the markup: very large MathML is left out, not converted
            const tex = math.tex?.trim() ? math.tex : markup.length <= MAX_MATHML && !math.tooDeep ? mathmlToTex(markup) : undefined;
            if (tex) current.children.push({ tex, display: math.display });
            math = null;
            parser.keepAll = false;
          } else {
            if (!math.tooDeep && f.tag !== "annotation" && f.tag !== "annotation-xml" && f.tag !== "math") math.markup.push(`</${f.tag}>`);
            math.depth--;
          }
          return;
        }
        if (f.mathScript && scriptText.trim()) {
          current.children.push({ tex: scriptText, display: f.mathScript === "display" });
          scriptText = "";
        }
        if (f.tag === "mjx-container") mathDisplayHint = false;
        if (f.el) {
          current = f.el.parent ?? root;
          depth--;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
    READ_ATTRIBUTES,
    bytes,
  );
  // htmlparser2 keeps its open elements in an array it unshifts, so parse time grows with the
  // square of the nesting depth (100,000 nested <div>s took 2–10 s): the HTML is fed in pieces
  // and parsing stops where more than MAX_OPEN elements are open at once
  const cut = bytes ? utf8Cut(html, limits.maxChars) : Math.min(html.length, limits.maxChars);
  const text = cut < html.length ? html.slice(0, cut) : html;
  let truncated = cut < html.length;
  for (let i = 0, end = 0; i < text.length; i = end) {
    end = i + FEED;
    // UTF-8 bytes are fed in whole characters: each piece decodes on its own
    if (bytes) while (end < text.length && (text.charCodeAt(end) & 0xc0) === 0x80) end++;
    parser.write(text.slice(i, end));
    if (stack.length > MAX_OPEN) {
      truncated = true;
      break;
    }
  }
  parser.end();
  return { root, title: title.replace(/\s+/g, " ").trim(), truncated };
}
