import { markedTokens } from "./features.js";

/**
 * The classifier features the work store keeps for every page: fastText's token hashes
 * (classify/linear scores a model from them without the text), and their stored format.
 */

const EOS = "</s>";

/** fastText's hash (FNV-1a 32, bytes sign-extended) and a second, independent one, of a token. */
export function tokenHashes(token: string, out: Uint32Array, at: number): void {
  let h = 0x811c9dc5;
  let g = 0x9747b28c;
  const step = (b: number) => {
    h = Math.imul(h ^ (b >= 0x80 ? b | 0xffffff00 : b), 16777619);
    g = Math.imul(g ^ b, 0x5bd1e995);
    g ^= g >>> 15;
  };
  for (let i = 0; i < token.length; i++) {
    let c = token.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 16777619);
      g = Math.imul(g ^ c, 0x5bd1e995);
      g ^= g >>> 15;
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < token.length) {
      const d = token.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // lone surrogate: what UTF-8 encoding writes
    if (c < 0x800) {
      step(0xc0 | (c >> 6));
      step(0x80 | (c & 63));
    } else if (c < 0x10000) {
      step(0xe0 | (c >> 12));
      step(0x80 | ((c >> 6) & 63));
      step(0x80 | (c & 63));
    } else {
      step(0xf0 | (c >> 18));
      step(0x80 | ((c >> 12) & 63));
      step(0x80 | ((c >> 6) & 63));
      step(0x80 | (c & 63));
    }
  }
  out[at] = h >>> 0;
  out[at + 1] = g >>> 0;
}

/**
 * A page's features as stored: the two hashes of each of its fastText tokens (those of
 * `markedTokens`, then `</s>`). They depend on the tokenisation only, not on a model, so they
 * are computed once, at extraction, in the worker threads.
 *
 * Layout (FEATURES_VERSION): `[n, u, h₀, g₀, …, h_{u−1}, g_{u−1}]` — n tokens, u distinct
 * tokens with their two hashes in order of first appearance — then n uint16 indices into those
 * u, one per token in order (two per uint32, the last half-word zero when n is odd). A page
 * repeats its words (1,329 tokens, 381 distinct on average on CC-style pages), so this is
 * 8 + 8u + 2n bytes instead of the 8n of one pair per token (51 → 27 MB for 4,804 pages), and a
 * model looks each distinct word up once.
 */
export function featureHashes(text: string): Uint32Array {
  const toks = markedTokens(text);
  const n = toks.length + 1;
  const seen = new Map<string, number>();
  const idx = new Uint16Array(n);
  const pairs = new Uint32Array(2 * n);
  let u = 0;
  for (let i = 0; i <= toks.length; i++) {
    const t = i < toks.length ? toks[i]! : EOS;
    let k = seen.get(t);
    if (k === undefined) {
      k = u++;
      seen.set(t, k);
      tokenHashes(t, pairs, 2 * k);
    }
    idx[i] = k;
  }
  return packFeatures(n, u, pairs, idx);
}

function packFeatures(n: number, u: number, pairs: Uint32Array, idx: Uint16Array): Uint32Array {
  const out = new Uint32Array(2 + 2 * u + ((n + 1) >> 1));
  out[0] = n;
  out[1] = u;
  out.set(pairs.subarray(0, 2 * u), 2);
  new Uint16Array(out.buffer, out.byteOffset + 4 * (2 + 2 * u), n).set(idx.subarray(0, n));
  return out;
}

/** The token indices of packed features (`featureHashes`): a view, not a copy. */
export function featureIndices(f: Uint32Array): Uint16Array {
  return new Uint16Array(f.buffer, f.byteOffset + 4 * (2 + 2 * f[1]!), f[0]!);
}

/** Identifies the feature format of `featureHashes`; stored features of another format are recomputed. */
export const FEATURES_VERSION = "fnv1a+murmur/marked-tokens-4000/v2-distinct";

/**
 * The format before FEATURES_VERSION (one interleaved pair per token, 8 bytes a token). Stores
 * written in it are still read, converted page by page (`packInterleaved`), and new pages are
 * written to them in it (`unpackFeatures`), so a run begun before keeps one format throughout.
 */
export const FEATURES_VERSION_INTERLEAVED = "fnv1a+murmur/marked-tokens-4000/v1";

/** Features of the interleaved format (a pair per token) → `featureHashes`' layout. */
export function packInterleaved(f: Uint32Array): Uint32Array {
  const n = f.length >> 1;
  const seen = new Map<string, number>();
  const idx = new Uint16Array(n);
  const pairs = new Uint32Array(2 * n);
  let u = 0;
  for (let i = 0; i < n; i++) {
    const key = `${f[2 * i]},${f[2 * i + 1]}`;
    let k = seen.get(key);
    if (k === undefined) {
      k = u++;
      seen.set(key, k);
      pairs[2 * k] = f[2 * i]!;
      pairs[2 * k + 1] = f[2 * i + 1]!;
    }
    idx[i] = k;
  }
  return packFeatures(n, u, pairs, idx);
}

/** `featureHashes`' layout → the interleaved format (a pair per token). */
export function unpackFeatures(f: Uint32Array): Uint32Array {
  const idx = featureIndices(f);
  const out = new Uint32Array(2 * idx.length);
  for (let i = 0; i < idx.length; i++) {
    out[2 * i] = f[2 + 2 * idx[i]!]!;
    out[2 * i + 1] = f[3 + 2 * idx[i]!]!;
  }
  return out;
}
