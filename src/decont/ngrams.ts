/**
 * Normalised tokens for n-gram matching: lower-cased runs of letters/digits and CJK characters
 * (one per token); punctuation and whitespace are not tokens. LaTeX command names (`\frac`) and
 * single Latin letters (formula variables) are not tokens either: measured on clean real pages,
 * n-grams made of formula pieces ("x^{n}+a_{n-1}x^{n-1}", "\frac{1}{2}") flagged 13 % of math
 * pages as "contaminated"; words, numbers and CJK characters carry the benchmark's identity.
 * Each token carries its character span in the original text, so a match can be shown.
 */
const TOKEN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{M}\p{N}])+/gu;

export interface Tokens {
  /** 32-bit hash of each token. */
  hashes: Uint32Array;
  /** 1 where the token is a word (letters or CJK), 0 for a number. */
  words: Uint8Array;
  /** 1 where the token is a content word: a word that is not an English function word. */
  content: Uint8Array;
  starts: Uint32Array;
  ends: Uint32Array;
  length: number;
}

/** English function words: they do not make a short benchmark text specific ("we have that"). */
const STOPWORDS = new Set(
  "a an the and or but if then so of to in on at by for from with as is are was were be been being it its this that these those we you he she they i me my our your their his her them us have has had do does did not no can could will would shall should may might must there here what which who whom whose when where why how all any each some such than too very just also let".split(" "),
);

/** FNV-1a over a string's UTF-16 units. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function normTokens(text: string): Tokens {
  const lower = text.toLowerCase();
  const hashes: number[] = [];
  const words: number[] = [];
  const content: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(lower); m !== null; m = TOKEN.exec(lower)) {
    const t = m[0];
    if (lower.charCodeAt(m.index - 1) === 92) continue; // a LaTeX command name
    if (lower.endsWith("\\begin{", m.index) || lower.endsWith("\\end{", m.index)) continue; // an environment name
    if (t.length === 1 && t.charCodeAt(0) < 0x80 && !(t >= "0" && t <= "9")) continue; // a variable
    hashes.push(hash32(t));
    const isWord = /^\p{N}+$/u.test(t) ? 0 : 1;
    words.push(isWord);
    content.push(isWord && !STOPWORDS.has(t) ? 1 : 0);
    starts.push(m.index);
    ends.push(m.index + t.length);
  }
  return { hashes: Uint32Array.from(hashes), words: Uint8Array.from(words), content: Uint8Array.from(content), starts: Uint32Array.from(starts), ends: Uint32Array.from(ends), length: hashes.length };
}

/** Word tokens (not numbers) among the n tokens at i; with `contentOnly`, content words only. */
export function wordCount(t: Tokens, i: number, n: number, contentOnly = false): number {
  const a = contentOnly ? t.content : t.words;
  let c = 0;
  for (let k = i; k < i + n; k++) c += a[k]!;
  return c;
}

/**
 * A 52-bit key for the n-gram of `n` tokens at `i`: two independent 32-bit mixes, one kept in
 * full and one in 20 bits (collisions at ~2^-52: none in practice for millions of n-grams).
 */
export function ngramKey(h: Uint32Array, i: number, n: number): number {
  let a = 0x9e3779b9 ^ n;
  let b = 0x85ebca6b ^ n;
  for (let k = i; k < i + n; k++) {
    const t = h[k]!;
    a = Math.imul(a ^ t, 0x01000193);
    b = Math.imul(b ^ (t >>> 16) ^ (t << 16), 0x5bd1e995);
    b ^= b >>> 15;
  }
  return (a >>> 0) * 1048576 + ((b >>> 0) & 0xfffff);
}
