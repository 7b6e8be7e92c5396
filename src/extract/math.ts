import { MathMLToLaTeX } from "mathml-to-latex";

/** A formula found in a page, to be written as `$…$` (inline) or `$$…$$` (display). */
export interface MathToken {
  tex: string;
  display: boolean;
}

/** `$x$` or `$$x$$`; TeX is trimmed, never otherwise changed. */
export function renderMath(m: MathToken): string {
  const tex = m.tex.trim();
  return m.display ? `$$${tex}$$` : `$${tex}$`;
}

/** MathJax `<script type="math/tex">` / `math/tex; mode=display` (also `text/x-latex`, `math/asciimath` is not TeX). */
export function scriptMathMode(type: string | undefined): "inline" | "display" | undefined {
  if (!type) return undefined;
  const t = type.toLowerCase().replace(/\s+/g, "");
  if (!t.startsWith("math/tex") && !t.startsWith("text/x-latex") && !t.startsWith("math/latex")) return undefined;
  return t.includes("mode=display") ? "display" : "inline";
}

/**
 * Where TeX sits in an image URL. A `key=value` query is form-encoded ("+" is a space:
 * WordPress's latex.php, Google's chart API); a bare query is the TeX itself, where "+" is a
 * plus (codecogs, mimetex/mathtex CGI).
 */
const TEX_IMG_SRC: Array<[RegExp, boolean]> = [
  [/[?&](?:latex|tex|chl|eq|formula)=([^&]+)/i, true],
  [/(?:gif|png|svg)\.latex\?(.+)$/i, false],
  [/(?:tex|mathtex|mimetex)\.cgi\?(.+)$/i, false],
];

function decodeQuery(s: string, form: boolean): string {
  try {
    return decodeURIComponent(form ? s.replace(/\+/g, " ") : s);
  } catch {
    return s;
  }
}

/** TeX carried by an image: wp-latex / `class="latex"` alt text, or a TeX-rendering URL. */
export function imageTex(attrs: Record<string, string>): MathToken | undefined {
  const cls = (attrs.class ?? "").toLowerCase();
  const alt = (attrs.alt ?? "").trim();
  const src = attrs.src ?? attrs["data-src"] ?? "";
  const display = /display|block/.test(cls);
  if (/\b(latex|tex|math|mathtex|mwe-math-fallback-image[-_a-z]*)\b/.test(cls) && alt && !/^(image|img|math|formula|equation)$/i.test(alt)) {
    return { tex: stripDollars(alt), display: display || /mwe-math-fallback-image-display/.test(cls) };
  }
  if (!src) return undefined;
  const isTexService = /latex|mimetex|mathtex|tex\.cgi|codecogs|chart\.apis\.google\.com\/chart\?[^#]*cht=tx|wp\.com\/latex/i.test(src);
  if (!isTexService) return undefined;
  for (const [re, form] of TEX_IMG_SRC) {
    const m = re.exec(src);
    if (m && m[1]) {
      let tex = decodeQuery(m[1], form);
      tex = tex.replace(/^\\(?:dpi|bg|fg)\{[^}]*\}\s*/g, "").replace(/^\\(?:inline|displaystyle)\s*/, "");
      if (tex.trim()) return { tex: tex.replace(/&(?:bg|fg|s|zoom)=.*$/, ""), display };
    }
  }
  if (alt && /[\\^_{}=]/.test(alt)) return { tex: stripDollars(alt), display };
  return undefined;
}

function stripDollars(s: string): string {
  const t = s.trim();
  const m = /^\$\$([\s\S]*)\$\$$/.exec(t) ?? /^\$([\s\S]*)\$$/.exec(t) ?? /^\\\(([\s\S]*)\\\)$/.exec(t) ?? /^\\\[([\s\S]*)\\\]$/.exec(t);
  return m ? m[1]!.trim() : t;
}

/** Converts MathML markup without a TeX annotation to LaTeX; undefined if it cannot. */
export function mathmlToTex(markup: string): string | undefined {
  try {
    const tex = MathMLToLaTeX.convert(markup).trim();
    return tex || undefined;
  } catch {
    return undefined;
  }
}
