/*
 * Math signals in a page's raw HTML, found without parsing it: OpenWebMath's cascade of cheap
 * checks (MathML, MathJax, KaTeX, TeX in scripts, annotations and image URLs, TeX commands). A
 * page with a signal is worth a full extraction whatever a first-pass score says ([speed]'s
 * candidate pool). Over a latin1 copy of the page's bytes: the markup signals by a skip scan,
 * the TeX commands from the backslashes found by indexOf (below).
 */

/** The signals, in bit order. */
export const SIGNALS = ["mathml", "mathjax", "katex", "tex_script", "tex_annotation", "tex_image", "tex_commands"] as const;
export type Signal = (typeof SIGNALS)[number];

const bit = (s: Signal) => 1 << SIGNALS.indexOf(s);

/**
 * The markup signals, one case-insensitive pattern over the page's bytes read as latin1 (a copy
 * of the bytes, no decoding): a match's text tells which signal it is.
 */
export const MARKUP = /<(?:m:|mml:)?math[\s>]|mathjax|katex|math\/tex|text\/x-latex|application\/x-tex|codecogs\.com|mimetex\.cgi|mathtex\.cgi|latex\.php|quicklatex|cht=tx|\.latex\?/gi;

/** The signal a match of MARKUP is. */
export function markupSignal(m: string): Signal {
  const t = m.toLowerCase();
  if (t.startsWith("<")) return "mathml";
  if (t === "mathjax") return "mathjax";
  if (t === "katex") return "katex";
  // MathJax's <script type="math/tex"> (also text/x-latex)
  if (t === "math/tex" || t === "text/x-latex") return "tex_script";
  // MathML's <annotation encoding="application/x-tex">: LaTeXML's and others' TeX source
  if (t === "application/x-tex") return "tex_annotation";
  // formula images: codecogs, mimetex/mathtex CGI, WordPress latex.php, QuickLaTeX, Google's chart API
  return "tex_image";
}

/**
 * TeX commands that prose and code rarely hold (case matters in TeX), after their backslash. Two
 * different ones make the signal: one alone is too common in code (`\left(` in a regex, `\alpha`
 * in a path).
 */
const TEX_COMMANDS = ["frac{", "sqrt{", "sum_", "int_", "mathbb{", "mathrm{", "left(", "right)", "cdot", "leq", "geq", "infty", "partial", "alpha", "beta", "theta", "lambda", "begin{equation", "begin{align", "lim_", "binom{", "mathcal{"];
/** A command as a pattern's text (any character special to a pattern escaped). */
const escape = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** The commands, what a /g loop over the page would look for (the tests' reference). */
export const COMMANDS = new RegExp(`\\\\(?:${TEX_COMMANDS.map(escape).join("|")})`, "g");
/** COMMANDS tried at one backslash. */
const COMMAND_AT = new RegExp(COMMANDS.source, "y");
/** The characters a command starts with (after its backslash). */
const COMMAND_START = new Uint8Array(128);
for (const c of TEX_COMMANDS) COMMAND_START[c.charCodeAt(0)] = 1;

/**
 * Whether `s` holds two different COMMANDS, found as a /g loop over COMMANDS finds them: the
 * backslashes by indexOf (a native scan), COMMANDS tried only after one followed by a command's
 * first letter. Measured on 3,000 pages of a CC-style crawl (129 KB, ~300 backslashes each):
 * 0.010 against 0.077 ms a page for the /g loop.
 */
function twoCommands(s: string): boolean {
  let first: string | undefined;
  let i = s.indexOf("\\");
  while (i >= 0) {
    const c = s.charCodeAt(i + 1);
    if (c < 128 && COMMAND_START[c]) {
      COMMAND_AT.lastIndex = i;
      const m = COMMAND_AT.exec(s);
      if (m) {
        if (first === undefined) first = m[0];
        else if (m[0] !== first) return true;
        // the next match starts after this one, as with /g
        i = s.indexOf("\\", COMMAND_AT.lastIndex);
        continue;
      }
    }
    i = s.indexOf("\\", i + 1);
  }
  return false;
}

/** MARKUP tried at one position (a candidate of the skip scan). */
const MARKUP_AT = new RegExp(MARKUP.source, "iy");

/**
 * The skip scan (Wu–Manber with blocks of two characters): a window of MIN characters, the
 * length of MARKUP's shortest match, slides along the text; the block of its last two
 * characters, case-folded, says how far the window can move without passing the start of a
 * match (SHIFT). Only where it cannot move is MARKUP tried, sticky, at the window's start. Most
 * blocks of a page are in no needle's first MIN characters, so the scan reads about a third of
 * the characters. Measured on 3,920 pages of a CC-style crawl (127 KB each; a loop over their
 * latin1 strings on one core): MARKUP with /gi 0.33 ms a page, the skip scan 0.21 ms, so
 * mathSignals as a whole 0.41 against 0.28 ms. test/extract/signals.test.ts checks that it finds
 * what MARKUP with /gi finds.
 */
const MIN = 5;
/** The first MIN characters of each of MARKUP's alternatives, lower case (`<m:math`, `<mml:math` as written). */
const PREFIXES = ["<math", "<m:ma", "<mml:", "mathj", "katex", "math/", "text/", "appli", "codec", "mimet", "matht", "latex", "quick", "cht=t", ".late"];
/** Each byte case-folded for a block: ASCII letters to lower case (as /i folds them: no other character folds to ASCII). */
const FOLD = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = c >= 65 && c <= 90 ? c + 32 : c;
  return t;
})();
/** CHECK in a block's entry: the window cannot move, try MARKUP at its start and move on by one. */
const CHECK = 16;
/** For each block of two folded bytes: how far the window moves (1..MIN-1), or CHECK | 1. */
const SHIFT = (() => {
  const t = new Uint8Array(1 << 16).fill(MIN - 1);
  for (const p of PREFIXES) {
    for (let j = 1; j < MIN; j++) {
      const b = (p.charCodeAt(j - 1) << 8) | p.charCodeAt(j);
      t[b] = Math.min(t[b]!, MIN - 1 - j);
    }
  }
  for (let b = 0; b < t.length; b++) if (t[b] === 0) t[b] = CHECK | 1;
  return t;
})();
/**
 * SHIFT by the low bytes of a block's two codes as they are, folding done when the table is
 * made (the scan reads one table a step, not three). A code above 255 is read by its low byte:
 * that block's entry is never a longer move than SHIFT's for it (MIN - 1, a block no needle
 * holds), so the scan never passes a match; at worst it tries MARKUP where it cannot match.
 * 0.180 against 0.206 ms a page for the skip scan over 3,000 cc20k pages.
 */
const BLOCK = (() => {
  const t = new Uint8Array(1 << 16);
  for (let a = 0; a < 256; a++) for (let b = 0; b < 256; b++) t[(a << 8) | b] = SHIFT[(FOLD[a]! << 8) | FOLD[b]!]!;
  return t;
})();

function markupMask(s: string): number {
  let mask = 0;
  let until = 0; // MARKUP with /g goes on after the end of a match: what starts inside it is not a match
  const n = s.length;
  let end = MIN - 1;
  // one table read and one rarely taken branch a step: a branch on the shift itself is
  // mispredicted about as often as it is taken, which made an earlier version no faster than /gi
  while (end < n) {
    const v = BLOCK[((s.charCodeAt(end - 1) & 255) << 8) | (s.charCodeAt(end) & 255)]!;
    if (v & CHECK) {
      const start = end - (MIN - 1);
      if (start >= until) {
        MARKUP_AT.lastIndex = start;
        const m = MARKUP_AT.exec(s);
        if (m) {
          mask |= bit(markupSignal(m[0]));
          until = start + m[0].length;
          // the next match starts at `until` at the earliest (a page of repeated needles would
          // else be checked at every character)
          end = until + (MIN - 1);
          continue;
        }
      }
    }
    end += v & 15;
  }
  return mask;
}

/** The signals found in `html` as a bit mask (SIGNALS order); 0: none. */
export function mathSignals(html: Buffer | string): number {
  const s = typeof html === "string" ? html : html.toString("latin1");
  const mask = markupMask(s);
  return twoCommands(s) ? mask | bit("tex_commands") : mask;
}

/** The names of the signals in `mask`. */
export function signalNames(mask: number): Signal[] {
  return SIGNALS.filter((s) => (mask & bit(s)) !== 0);
}
