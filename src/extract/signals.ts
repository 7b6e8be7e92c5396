/*
 * Math signals in a page's raw HTML, found without parsing it: OpenWebMath's cascade of cheap
 * checks (MathML, MathJax, KaTeX, TeX in scripts, annotations and image URLs, TeX commands). A
 * page with a signal is worth a full extraction whatever a first-pass score says ([speed]'s
 * candidate pool). Two regular-expression passes over a latin1 copy of the page's bytes.
 */

/** The signals, in bit order. */
export const SIGNALS = ["mathml", "mathjax", "katex", "tex_script", "tex_annotation", "tex_image", "tex_commands"] as const;
export type Signal = (typeof SIGNALS)[number];

const bit = (s: Signal) => 1 << SIGNALS.indexOf(s);

/**
 * The markup signals, one case-insensitive pattern over the page's bytes read as latin1 (a copy
 * of the bytes, no decoding): a match's text tells which signal it is.
 */
const MARKUP = /<(?:m:|mml:)?math[\s>]|mathjax|katex|math\/tex|text\/x-latex|application\/x-tex|codecogs\.com|mimetex\.cgi|mathtex\.cgi|latex\.php|quicklatex|cht=tx|\.latex\?/gi;

function markupSignal(m: string): Signal {
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
 * TeX commands that prose and code rarely hold (case matters in TeX). Two different ones make
 * the signal: one alone is too common in code (`\left(` in a regex, `\alpha` in a path).
 */
const COMMANDS = /\\(?:frac\{|sqrt\{|sum_|int_|mathbb\{|mathrm\{|left\(|right\)|cdot|leq|geq|infty|partial|alpha|beta|theta|lambda|begin\{equation|begin\{align|lim_|binom\{|mathcal\{)/g;

/** The signals found in `html` as a bit mask (SIGNALS order); 0: none. */
export function mathSignals(html: Buffer | string): number {
  const s = typeof html === "string" ? html : html.toString("latin1");
  let mask = 0;
  MARKUP.lastIndex = 0;
  for (let m = MARKUP.exec(s); m; m = MARKUP.exec(s)) mask |= bit(markupSignal(m[0]));
  COMMANDS.lastIndex = 0;
  let first: string | undefined;
  for (let m = COMMANDS.exec(s); m; m = COMMANDS.exec(s)) {
    if (first === undefined) first = m[0];
    else if (m[0] !== first) {
      mask |= bit("tex_commands");
      break;
    }
  }
  return mask;
}

/** The names of the signals in `mask`. */
export function signalNames(mask: number): Signal[] {
  return SIGNALS.filter((s) => (mask & bit(s)) !== 0);
}
