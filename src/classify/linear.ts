import fs from "node:fs";
import { InputError } from "../core/errors.js";
import { LABEL_MATH, LABEL_OTHER, markedTokens } from "./features.js";

/**
 * fastText's supervised prediction, computed from the model file the fastText binary wrote,
 * for the models mathcorpus trains (softmax loss, two labels, no subwords, not
 * quantised). Why not the binary: scoring re-reads every stored page each round, and the
 * binary's ~1,000–1,800 pages/s per process (dim 256: 256 multiply-adds per word and n-gram)
 * was most of a later round (ARCHITECTURE.md, Classification and Rounds).
 *
 * The prediction is linear up to the last step: the hidden vector is the mean of the input
 * rows of the page's words and word n-gram buckets, and P(math) = σ((o_math − o_other) · h)
 * for softmax over two labels. So each input row collapses to
 * one number, w[row] = row · (o_math − o_other), once per model, and a page's logit is the
 * mean of w over its rows: one table lookup per row instead of 256 multiply-adds.
 *
 * Rows are found as fastText finds them (Dictionary::getLine / addWordNgrams): words by their
 * FNV-1a hash over UTF-8 bytes (each byte sign-extended, as `char` is on x86) — looked up with a
 * second hash as well, so an unknown word never takes a known word's row — and n-grams by the
 * 64-bit rolling hash `h = h * 116049371 + hash(next word)` modulo the bucket count, over every
 * word including unknown ones and the end-of-line token `</s>`. Scores agree with the binary's
 * `predict-prob` to ~1e-5 (test/classify/linear.test.ts).
 */

const MAGIC = 793712314;
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
function featureIndices(f: Uint32Array): Uint16Array {
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

/** The file's bytes, with 3 spare bytes after them in the same ArrayBuffer (Reader.floats). */
function readModelFile(file: string): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.from(new ArrayBuffer(size + 3), 0, size);
    for (let at = 0; at < size; ) {
      const n = fs.readSync(fd, buf, at, size - at, at);
      if (n === 0) throw new RangeError("file shorter than its size");
      at += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

class Reader {
  off = 0;
  constructor(private buf: Buffer) {}
  i32(): number {
    const v = this.buf.readInt32LE(this.off);
    this.off += 4;
    return v;
  }
  i64(): number {
    const v = Number(this.buf.readBigInt64LE(this.off));
    this.off += 8;
    return v;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.off);
    this.off += 8;
    return v;
  }
  u8(): number {
    return this.buf[this.off++]!;
  }
  cstr(): string {
    const end = this.buf.indexOf(0, this.off);
    if (end < 0) throw new RangeError("unterminated string");
    const s = this.buf.toString("utf8", this.off, end);
    this.off = end + 1;
    return s;
  }
  floats(n: number): Float32Array {
    if (this.off + n * 4 > this.buf.length) throw new RangeError("matrix runs past the end of the file");
    // Float32Array views need 4-byte alignment. An unaligned large matrix is moved up in place
    // (the model is read with spare bytes after it: see readModelFile), and the reader goes on
    // over the moved bytes; a small one is copied. Copying the input matrix of a 244 MB model
    // took 0.7 s; the move, ~0.05 s.
    const ab = this.buf.buffer;
    const start = this.buf.byteOffset + this.off;
    const shift = (4 - (start % 4)) % 4;
    const end = this.buf.byteOffset + this.buf.length;
    let view: Float32Array;
    if (shift === 0) view = new Float32Array(ab, start, n);
    else if (n >= 1 << 18 && end + shift <= ab.byteLength) {
      new Uint8Array(ab).copyWithin(start + shift, start, end);
      this.buf = Buffer.from(ab, this.buf.byteOffset + shift, this.buf.length);
      view = new Float32Array(ab, start + shift, n);
    } else view = new Float32Array(ab.slice(start, start + n * 4));
    this.off += n * 4;
    return view;
  }
}

const SOFTMAX = 3;
const SUPERVISED = 3;

/** A LinearModel's tables, as posted to scoring threads. */
export interface SharedLinearModel {
  w: Float64Array;
  keys: Uint32Array;
  rows: Int32Array;
  mask: number;
  nwords: number;
  bucket: number;
  wordNgrams: number;
}

/** Why a model cannot be scored here (the binary scores it instead), or undefined. */
export type Unsupported = string;

export class LinearModel {
  /** Scratch for `scoreHashes` (grown as needed): each distinct word's row, each token's hash. */
  private rowOf = new Int32Array(0);
  private hashOf = new Uint32Array(0);

  private constructor(
    /** Row weights: input row · (o_math − o_other). */
    private readonly w: Float64Array,
    /** Open-addressing table of known words: (hash, hash2) → row. */
    private readonly keys: Uint32Array,
    private readonly rows: Int32Array,
    private readonly mask: number,
    readonly nwords: number,
    readonly bucket: number,
    readonly wordNgrams: number,
  ) {}

  /** Reads a model; returns a reason instead when it is of a kind this scorer does not compute. */
  static load(file: string): LinearModel | Unsupported {
    let buf: Buffer;
    try {
      buf = readModelFile(file);
    } catch {
      throw new InputError(`model file not found: ${file}`);
    }
    try {
      return LinearModel.parse(buf, file);
    } catch (err) {
      if (err instanceof RangeError) throw new InputError(`${file} is not a readable fastText model (${err.message})`);
      throw err;
    }
  }

  private static parse(buf: Buffer, file: string): LinearModel | Unsupported {
    const r = new Reader(buf);
    if (r.i32() !== MAGIC) throw new InputError(`${file} is not a fastText model (bad magic number)`);
    const version = r.i32();
    if (version !== 12) return `model file version ${version}`;
    const dim = r.i32();
    r.i32(); // ws
    r.i32(); // epoch
    r.i32(); // minCount
    r.i32(); // neg
    const wordNgrams = r.i32();
    const loss = r.i32();
    const model = r.i32();
    const bucket = r.i32();
    r.i32(); // minn
    const maxn = r.i32();
    r.i32(); // lrUpdateRate
    r.f64(); // t
    if (model !== SUPERVISED) return "not a supervised model";
    if (loss !== SOFTMAX) return `loss ${loss} (only softmax is computed here)`;
    if (maxn > 0) return "subword features (maxn > 0)";
    if (bucket > 2 ** 26) return `bucket count ${bucket} above 2^26`;
    const size = r.i32();
    const nwords = r.i32();
    const nlabels = r.i32();
    r.i64(); // ntokens
    const pruneidx = r.i64();
    if (pruneidx >= 0) return "pruned (quantised) dictionary";
    const words: string[] = [];
    let math = -1;
    let other = -1;
    for (let i = 0; i < size; i++) {
      const word = r.cstr();
      r.i64(); // count
      const type = r.u8();
      if (type === 0) words.push(word);
      else if (word === LABEL_MATH) math = i - nwords;
      else if (word === LABEL_OTHER) other = i - nwords;
    }
    if (words.length !== nwords) throw new RangeError("dictionary word count mismatch");
    if (math < 0 || other < 0) {
      throw new InputError(`model ${file} does not predict ${LABEL_MATH}/${LABEL_OTHER}: not a mathcorpus classifier`);
    }
    if (nlabels !== 2) return `${nlabels} labels (the softmax of two is computed here)`;
    if (r.u8() !== 0) return "quantised input matrix";
    const m = r.i64();
    const n = r.i64();
    if (n !== dim || m !== nwords + bucket) throw new RangeError(`input matrix ${m}×${n}, expected ${nwords + bucket}×${dim}`);
    const input = r.floats(m * n);
    if (r.u8() !== 0) return "quantised output matrix";
    const om = r.i64();
    const on = r.i64();
    if (on !== dim || om !== nlabels) throw new RangeError(`output matrix ${om}×${on}, expected ${nlabels}×${dim}`);
    const out = r.floats(om * on);
    const d = new Float64Array(dim);
    for (let k = 0; k < dim; k++) d[k] = out[math * dim + k]! - out[other * dim + k]!;
    // tables in shared memory: scoring threads use them without a copy (`shared`, `fromShared`)
    const w = new Float64Array(new SharedArrayBuffer(m * 8));
    for (let row = 0, base = 0; row < m; row++, base += dim) {
      let s = 0;
      for (let k = 0; k < dim; k++) s += input[base + k]! * d[k]!;
      w[row] = s;
    }
    let cap = 1;
    while (cap < nwords * 2 + 2) cap <<= 1;
    const keys = new Uint32Array(new SharedArrayBuffer(cap * 8));
    const rows = new Int32Array(new SharedArrayBuffer(cap * 4)).fill(-1);
    const hh = new Uint32Array(2);
    for (let i = 0; i < nwords; i++) {
      tokenHashes(words[i]!, hh, 0);
      let slot = hh[0]! & (cap - 1);
      while (rows[slot] !== -1) slot = (slot + 1) & (cap - 1);
      keys[2 * slot] = hh[0]!;
      keys[2 * slot + 1] = hh[1]!;
      rows[slot] = i;
    }
    return new LinearModel(w, keys, rows, cap - 1, nwords, bucket, wordNgrams);
  }

  /** The model's tables (shared memory) for scoring threads: posted, they are not copied. */
  get shared(): SharedLinearModel {
    return { w: this.w, keys: this.keys, rows: this.rows, mask: this.mask, nwords: this.nwords, bucket: this.bucket, wordNgrams: this.wordNgrams };
  }

  static fromShared(s: SharedLinearModel): LinearModel {
    return new LinearModel(s.w, s.keys, s.rows, s.mask, s.nwords, s.bucket, s.wordNgrams);
  }

  private row(h: number, g: number): number {
    const { keys, rows, mask } = this;
    let slot = h & mask;
    for (;;) {
      const row = rows[slot]!;
      if (row === -1) return -1;
      if (keys[2 * slot] === h && keys[2 * slot + 1] === g) return row;
      slot = (slot + 1) & mask;
    }
  }

  /** x mod bucket for a whole x < 2^53 (a float quotient, corrected: cheaper than fmod). */
  private mod(x: number): number {
    const b = this.bucket;
    let r = x - Math.floor(x / b) * b;
    if (r < 0) r += b;
    else if (r >= b) r -= b;
    return r;
  }

  /** P(math) of a page from its feature hashes (`featureHashes`). */
  scoreHashes(f: Uint32Array): number {
    const n = f[0]!;
    const u = f[1]!;
    const idx = featureIndices(f);
    const { w, nwords, bucket, wordNgrams } = this;
    // each distinct word is looked up once; each token's fastText hash in order, for the n-grams
    if (this.rowOf.length < u) this.rowOf = new Int32Array(u);
    if (this.hashOf.length < n) this.hashOf = new Uint32Array(n);
    const rowOf = this.rowOf;
    const hs = this.hashOf;
    for (let k = 0; k < u; k++) rowOf[k] = this.row(f[2 + 2 * k]!, f[3 + 2 * k]!);
    for (let i = 0; i < n; i++) hs[i] = f[2 + 2 * idx[i]!]!;
    const two32modB = 2 ** 32 % bucket;
    const M = 116049371;
    const M0 = M & 0xffff;
    const M1 = M >>> 16;
    let sum = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const h = hs[i]!;
      const row = rowOf[idx[i]!]!;
      if (row >= 0) {
        sum += w[row]!;
        count++;
      }
      // n-grams: uint64 h = int32(hash_i), sign-extended; h = h * 116049371 + int32(hash_j)
      let lo = h;
      let hi = h >= 0x80000000 ? 0xffffffff : 0;
      for (let j = i + 1; j < n && j < i + wordNgrams; j++) {
        // (hi:lo) * 116049371 modulo 2^64 with 16-bit limbs (exact in doubles, no fmod)
        const a0 = lo & 0xffff;
        const a1 = lo >>> 16;
        const p00 = a0 * M0;
        const mid = a0 * M1 + a1 * M0 + (p00 >>> 16); // < 2^34
        const low = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
        const high = a1 * M1 + Math.floor(mid / 65536) + Math.imul(hi, M);
        const hj = hs[j]!;
        const sum32 = low + hj;
        lo = sum32 >>> 0;
        hi = (high + (hj >= 0x80000000 ? 0xffffffff : 0) + (sum32 > 0xffffffff ? 1 : 0)) >>> 0;
        sum += w[nwords + this.mod(this.mod(hi) * two32modB + this.mod(lo))]!;
        count++;
      }
    }
    if (count === 0) return 0; // fastText prints no label for a page with no known row
    const z = sum / count;
    return 1 / (1 + Math.exp(-z));
  }

  /** P(math) of a raw text (tokenised as for training). */
  scoreText(text: string): number {
    return this.scoreHashes(featureHashes(text));
  }
}
