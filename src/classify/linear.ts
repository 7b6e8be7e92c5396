import fs from "node:fs";
import { InputError } from "../core/errors.js";
import { LABEL_MATH, LABEL_OTHER } from "./features.js";
import { featureHashes, featureIndices, tokenHashes } from "./hashes.js";

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

/**
 * Why a fastText model file is damaged (cut short or padded: a full disk while it was written),
 * or undefined when its structure adds up to its size. Reads the header and dictionary only, and
 * checks the matrices' sizes against the file's: cheap enough to run on every resume.
 * Quantised models are not checked.
 */
export function modelFileProblem(file: string): string | undefined {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return "missing";
  }
  const fd = fs.openSync(file, "r");
  try {
    for (let have = Math.min(size, 1 << 20); ; have = Math.min(size, have * 4)) {
      const buf = Buffer.alloc(have);
      fs.readSync(fd, buf, 0, have, 0);
      try {
        const r = new Reader(buf);
        if (r.i32() !== MAGIC) return "bad magic number";
        r.i32(); // version
        const dim = r.i32();
        for (let i = 0; i < 11; i++) r.i32(); // ws … lrUpdateRate
        r.f64(); // t
        const words = r.i32();
        r.i32(); // nwords
        r.i32(); // nlabels
        r.i64(); // ntokens
        const pruned = r.i64();
        for (let i = 0; i < words; i++) {
          r.cstr();
          r.i64();
          r.u8();
        }
        if (pruned > 0) r.off += pruned * 8;
        let end = r.off;
        for (const matrix of ["input", "output"]) {
          if (end + 17 > size) return `the file ends inside the ${matrix} matrix's header`;
          const head = Buffer.alloc(17);
          fs.readSync(fd, head, 0, 17, end);
          if (head[0] !== 0) return undefined; // quantised: not checked
          const m = Number(head.readBigInt64LE(1));
          const n = Number(head.readBigInt64LE(9));
          if (n !== dim || m < 0) return `the ${matrix} matrix is ${m}×${n} in a model of dimension ${dim}`;
          end += 17 + m * n * 4;
          if (end > size) return `the ${matrix} matrix runs past the end of the file (${size} bytes; ${end} expected at least)`;
        }
        return end === size ? undefined : `${size - end} bytes after the output matrix`;
      } catch (err) {
        if (!(err instanceof RangeError)) throw err;
        if (have >= size) return "the file ends inside its dictionary";
      }
    }
  } finally {
    fs.closeSync(fd);
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
