import { charCode } from "../core/charclass.js";
import { renderMath } from "./math.js";
import { type El, type ElStats, type Node, isEl, isMath } from "./tree.js";

/**
 * Main-content selection and rendering, after Readability's scoring: paragraphs vote for
 * their ancestors, the best-scoring container (less its link density, plus or minus its class
 * and id words) is the article, and siblings that look like more of it join it. Formulas count
 * as text, so math-heavy pages keep their content.
 */
const BLOCK = new Set([
  "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd",
  "table", "tr", "thead", "tbody", "tfoot", "caption", "pre", "blockquote", "figure", "figcaption", "hr", "address",
  "details", "summary", "center", "body", "html", "root", "fieldset", "legend", "td", "th",
]);
const PARAGRAPH = new Set(["p", "pre", "td", "blockquote", "dd", "li", "div", "section", "article", "span", "font"]);
const GOOD_NAMES = /(^|[\s_-])(article|articlebody|article-body|body|content|entry|hentry|main|page|post|text|blog|story|ltx_document|ltx_page_content|question|answer|answercell|postcell|post-text|s-prose|prose|markdown|mw-parser-output|entry-content|post-content|story-body)([\s_-]|$)/;
const BAD_NAMES = /boilerplate|(^|[\s_-])(combx|comment|com-|contact|foot|footnote-ref|masthead|media|meta|outbrain|promo|related|scroll|shoutbox|sidebar|sponsor|shopping|tags|tool|widget|byline|author|dateline|caption)([\s_-]|$)/;

/** Class/id words of page furniture: skipped when rendering (strict pass). */
const BOILERPLATE =
  /(^|[\s_-])(nav|navbar|navigation|menu|breadcrumbs?|sidebar|side-bar|footer|masthead|banner|cookie|cookies|consent|gdpr|newsletter|subscribe|share|sharing|social|socials|related|recommended|promo|advert|advertisement|ads|ad|sponsor|sponsored|comments?|disqus|pagination|pager|skip-link|toolbar|widget|popup|modal|signup|login|tagcloud)([\s_-]|$)/;
/** Page furniture by tag or ARIA role (nav, header, footer, aside, forms, menus). */
const FURNITURE_TAGS = new Set(["nav", "header", "footer", "aside", "menu", "form"]);
const FURNITURE_ROLES = /role-(navigation|complementary|banner|contentinfo|search|menu|menubar|dialog|alert)/;

const UNLIKELY = /-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote/;
const MAYBE = /and|article|body|column|content|main|shadow|ltx_/;

type Stats = ElStats;

/** Results of `measure` (module variables: no array per text node). */
let measuredChars = 0;
let measuredCommas = 0;

/** Characters with whitespace runs counted once (leading/trailing not at all), and commas: one pass. */
function measure(t: string): void {
  let n = 0;
  let commas = 0;
  let space = true;
  for (let i = 0, len = t.length; i < len; i++) {
    const c = charCode.call(t, i);
    if (c === 32 || (c >= 9 && c <= 13) || c === 160) {
      if (!space) {
        n++;
        space = true;
      }
      continue;
    }
    space = false;
    n++;
    if (c === 44 || c === 0xff0c || c === 0x3001) commas++;
  }
  if (space && n > 0) n--;
  measuredChars = n;
  measuredCommas = commas;
}

/** Measures every element under root into its `stats`; returns them all (document order, root last). */
function collectStats(root: El): Stats[] {
  const all: Stats[] = [];
  const walk = (el: El, inLink: boolean): Stats => {
    const s: Stats = { text: 0, link: 0, commas: 0, score: 0, scored: false };
    const link = inLink || el.tag === "a";
    const kids = el.children;
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (typeof c === "string") {
        measure(c);
        s.text += measuredChars;
        if (link) s.link += measuredChars;
        s.commas += measuredCommas;
      } else if (isMath(c)) {
        s.text += c.tex.length;
      } else {
        const k = walk(c, link);
        s.text += k.text;
        s.link += k.link;
        s.commas += k.commas;
      }
    }
    el.stats = s;
    all.push(s);
    return s;
  };
  walk(root, false);
  return all;
}

/** Own text directly inside `el` (not in child blocks), as Readability's paragraph test. */
function hasDirectText(el: El): boolean {
  for (const c of el.children) if ((typeof c === "string" && c.trim().length > 0) || isMath(c)) return true;
  return false;
}

function classWeight(el: El): number {
  let w = 0;
  if (GOOD_NAMES.test(el.names)) w += 25;
  if (BAD_NAMES.test(el.names)) w -= 25;
  if (el.tag === "article" || el.tag === "main") w += 10;
  return w;
}

/** Per-document measurements shared by selection and rendering. */
interface Ctx {
  /** Every element's stats (each also on its element). */
  all: Stats[];
  /** Text characters of the whole page. */
  pageText: number;
}

function context(root: El): Ctx {
  const all = collectStats(root);
  return { all, pageText: Math.max(1, root.stats!.text) };
}

/**
 * Furniture by tag, role or class words; but an element holding most of the page's text is
 * the page (broken markup nests whole articles inside an unclosed <header>).
 */
function furniture(el: El, ctx: Ctx): boolean {
  if (!FURNITURE_TAGS.has(el.tag) && !FURNITURE_ROLES.test(el.names) && !BOILERPLATE.test(el.names)) return false;
  const s = el.stats;
  return !s || s.text < 0.5 * ctx.pageText;
}

function linkDensity(s: Stats): number {
  return s.text > 0 ? s.link / s.text : 0;
}

/** Picks the elements that hold the main content, in document order. */
export function selectContent(root: El, strict = true, ctx: Ctx = context(root)): El[] {
  const candidates: El[] = [];
  const visit = (el: El) => {
    // Readability's "unlikely candidates": comments, sidebars and the like do not vote
    if (strict && el.tag !== "body" && ((UNLIKELY.test(el.names) && !MAYBE.test(el.names)) || furniture(el, ctx))) return;
    for (const c of el.children) if (isEl(c)) visit(c);
    if (!PARAGRAPH.has(el.tag)) return;
    if (el.tag === "div" || el.tag === "section" || el.tag === "article" || el.tag === "span" || el.tag === "font") {
      if (!hasDirectText(el)) return;
    }
    const s = el.stats!;
    if (s.text < 25) return;
    const points = 1 + s.commas + Math.min(Math.floor(s.text / 100), 3);
    let anc = el.parent;
    for (let level = 0; anc && level < 3; level++, anc = anc.parent) {
      const a = anc.stats!;
      if (!a.scored) {
        a.scored = true;
        a.score = classWeight(anc);
        candidates.push(anc);
      }
      a.score += points / (level === 0 ? 1 : level === 1 ? 2 : level * 3);
    }
  };
  visit(root);
  let best: El | undefined;
  let bestScore = -Infinity;
  for (const c of candidates) {
    const s = c.stats!;
    const final = s.score * (1 - linkDensity(s));
    s.score = final;
    if (final > bestScore) {
      bestScore = final;
      best = c;
    }
  }
  if (!best) return [root];
  // Readability: a parent whose score is close to its child's holds more of the same article
  let top = best;
  while (top.parent && top.parent !== root && top.parent.stats!.scored && top.parent.stats!.score >= bestScore * 0.75 && top.parent.tag !== "body") {
    top = top.parent;
  }
  const parent = top.parent;
  if (!parent) return [top];
  const threshold = Math.max(10, bestScore * 0.2);
  const picked: El[] = [];
  for (const sib of parent.children) {
    if (!isEl(sib)) continue;
    if (sib === top) {
      picked.push(sib);
      continue;
    }
    const s = sib.stats!;
    // siblings of the same kind (article-section-1, -2, …) are more of the article
    const sameKind = sib.tag === top.tag && firstWord(sib.names) !== "" && firstWord(sib.names) === firstWord(top.names);
    const bonus = sameKind ? bestScore * 0.2 : 0;
    const ld = linkDensity(s);
    if (BAD_NAMES.test(sib.names) || (strict && furniture(sib, ctx))) continue;
    if (s.scored && s.score + bonus >= threshold) picked.push(sib);
    else if (sib.tag === "p" || sib.tag === "pre" || sib.tag === "blockquote") {
      if ((s.text > 80 && ld < 0.25) || (s.text > 0 && s.text <= 80 && ld === 0 && /[.!?。]$/.test(textOf(sib)))) picked.push(sib);
    } else if (s.text >= 150 && ld < 0.1 && hasParagraphs(sib)) picked.push(sib);
  }
  return picked;
}

function firstWord(names: string): string {
  return names.split(/\s+/)[0] ?? "";
}

/** Holds running prose: a <p> or <blockquote> child with a sentence in it. */
function hasParagraphs(el: El): boolean {
  for (const c of el.children) {
    if (!isEl(c)) continue;
    if ((c.tag === "p" || c.tag === "blockquote") && /[.!?。]/.test(textOf(c))) return true;
    if (c.tag === "div" && hasParagraphs(c)) return true;
  }
  return false;
}

function textOf(el: El): string {
  const parts: string[] = [];
  const walk = (n: Node) => {
    if (typeof n === "string") parts.push(n);
    else if (isMath(n)) parts.push(renderMath(n));
    else n.children.forEach(walk);
  };
  walk(el);
  return parts.join("").replace(/\s+/g, " ").trim();
}

/**
 * Short lines that are page furniture inside an article body: "Read more: …", "Share this",
 * "Subscribe now …", "Lea también: …", "Kommentar verfassen" (as trafilatura's gold leaves out).
 */
const CALL_TO_ACTION =
  /^(read (more|also)|see also|related (articles?|posts|stories|content|links)|related:|share (this|on)|follow us|subscribe|sign up|click here|advertisement|advertising disclosure|sponsored|this entry was posted|posted in|filed under|tags?:|leave a (comment|reply)|if you enjoyed|lea (también|más)|lee también|mira:|ver también|anzeige|-\s*anzeige\s*-|werbung|lesen sie auch|mehr zum thema|mehr themen|kommentar(e|ieren| verfassen)|zum shop|jetzt (abonnieren|anmelden)|lire aussi|à lire aussi|voir aussi|leia também|photo:|foto:|bild:|© bild|crédits? photos?|image:|credit:|titelbild:|quelle:|\(quelle:|mire:|lea:|le puede interesar|das könnte sie auch interessieren|s[ií]guenos|kommentieren$|sie müssen sich einloggen|sie sind aktuell nicht eingeloggt|be sociable|get the latest news|for the latest stories|download (our|the) app|video recomendado|más sobre|vorschau auf den nächsten|abbildung \d+:|fig(ure|\.)? ?\d+[:.]|gefällt mir|loading\.\.\.|wird geladen|\(noch keine bewertungen\)|(please )?(enable|activate) javascript|javascript (is )?(required|disabled))/i;

/** Image captions and credits, which main-text gold leaves out. */
const CAPTION_NAMES = /(^|[\s_-])(caption|wp-caption-text|credit|credits|copyright|image-source|bildunterschrift|bildquelle|photo-credit)([\s_-]|$)/;

function isCallToAction(line: string): boolean {
  return line.length < 200 && CALL_TO_ACTION.test(line);
}

/**
 * Short label lines left at the end of an article ("Teilnehmende Blogs:", "Más sobre …", a
 * related-links heading): no sentence, no formula, no table row. At most three are removed.
 */
function trimTrailingLabels(lines: string[]): void {
  for (let k = 0; k < 3 && lines.length > 1; k++) {
    const last = lines[lines.length - 1]!;
    if (last.length >= 40 || last.includes("\n") || /[.!?。！？"”»)]$/.test(last) || last.includes("$") || last.includes(" | ") || /\\[a-zA-Z]/.test(last)) return;
    lines.pop();
  }
}

/** Renders elements as text: blocks on their own lines, table rows as cells joined by " | ". */
export function renderText(els: El[], ctx?: Ctx, strict = true, top = true): string {
  const c0 = ctx ?? context({ tag: "root", names: "", parent: null, children: els, stats: null }); // (re)measures els
  const lines: string[] = [];
  let line: string[] = [];
  const flush = () => {
    const t = line.join("").replace(/[ \t\r\f\v]+/g, " ").replace(/ *\n */g, "\n").trim();
    if (t) lines.push(...t.split("\n").map((l) => l.trim()).filter((l) => l && !(strict && isCallToAction(l))));
    line = [];
  };
  const walk = (n: Node, pre: boolean) => {
    if (typeof n === "string") {
      line.push(pre ? n : n.replace(/\s+/g, " "));
      return;
    }
    if (isMath(n)) {
      if (n.display) {
        flush();
        lines.push(renderMath(n));
      } else line.push(renderMath(n));
      return;
    }
    const el = n;
    if (strict && el.tag !== "body" && (furniture(el, c0) || el.tag === "figcaption" || CAPTION_NAMES.test(el.names))) return;
    const s = el.stats;
    if (s && (el.tag === "ul" || el.tag === "ol" || el.tag === "div" || el.tag === "table" || el.tag === "section") && s.text < 300 && linkDensity(s) > 0.5) return;
    if (el.tag === "pre") {
      flush();
      const parts: string[] = [];
      const raw = (k: Node) => {
        if (typeof k === "string") parts.push(k);
        else if (isMath(k)) parts.push(renderMath(k));
        else k.children.forEach(raw);
      };
      el.children.forEach(raw);
      const text = parts.join("").replace(/[ \t]+$/gm, "").replace(/^\n+|\n+$/g, "");
      if (text.trim()) lines.push(text);
      return;
    }
    if (el.tag === "tr") {
      flush();
      const cells: string[] = [];
      for (const c of el.children) {
        if (isEl(c) && (c.tag === "td" || c.tag === "th")) {
          const t = renderText([c], c0, strict, false).replace(/\n/g, " ").trim();
          if (t) cells.push(t);
        }
      }
      if (cells.length) lines.push(cells.join(" | "));
      return;
    }
    const block = BLOCK.has(el.tag);
    if (block) flush();
    for (const c of el.children) walk(c, pre);
    if (block) flush();
  };
  for (const el of els) walk(el, false);
  flush();
  if (strict && top) trimTrailingLabels(lines);
  return lines.join("\n");
}

/**
 * Adds, in document order, long prose paragraphs outside the chosen container (a lead or a
 * second body part that Readability's single container misses), never from page furniture.
 */
function withStrayParagraphs(root: El, picked: El[], ctx: Ctx): El[] {
  const chosen = new Set(picked);
  const out: El[] = [];
  const walk = (el: El) => {
    if (chosen.has(el)) {
      out.push(el);
      return;
    }
    if (el !== root && el.tag !== "body" && (furniture(el, ctx) || (UNLIKELY.test(el.names) && !MAYBE.test(el.names)) || BAD_NAMES.test(el.names))) return;
    if (el.tag === "p" || el.tag === "blockquote") {
      const st = el.stats!;
      if (st.text >= STRAY_MIN && linkDensity(st) < 0.1 && /[.!?。！？]/.test(textOf(el))) out.push(el);
      return;
    }
    for (const c of el.children) if (isEl(c)) walk(c);
  };
  walk(root);
  return out;
}

/** Characters a paragraph outside the main container needs to join it. */
const STRAY_MIN = 200;

/**
 * The main content of a document tree as text. As Readability does, a strict pass (page
 * furniture skipped) is retried without those rules when it finds too little text.
 */
export function mainText(root: El): string {
  const ctx = context(root);
  const strict = renderText(withStrayParagraphs(root, selectContent(root, true, ctx), ctx), ctx, true);
  if (strict.length >= 500) return strict;
  for (const s of ctx.all) {
    s.score = 0;
    s.scored = false;
  }
  const relaxed = renderText(selectContent(root, false, ctx), ctx, false);
  return relaxed.length > strict.length * 1.5 ? relaxed : strict;
}
