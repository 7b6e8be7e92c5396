import xxhash from "xxhash-wasm";

/**
 * MinHash over word n-gram shingles (CJK: character n-grams), banded for LSH: `bands` × `rows`
 * hashes (default 14 × 8 = 112, as datatrove), so pages above ~0.7–0.8 Jaccard share a band
 * with high probability. Shingles are hashed once with xxHash32 (xxhash-wasm: ~4M hashes/s,
 * faster than native bindings for short inputs); the 112 permutations are universal hashes
 * (a·h + b mod 2^32, a odd) of that value.
 */
export interface MinHashConfig {
  bands: number;
  rows: number;
  shingle: number;
  seed: number;
}

export const DEFAULT_MINHASH: MinHashConfig = { bands: 14, rows: 8, shingle: 5, seed: 1 };

const WORD = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{M}\p{N}])+/gu;

export function shingleWords(text: string): string[] {
  return text.toLowerCase().match(WORD) ?? [];
}

/** The distinct shingles of a text (a text shorter than one shingle is one shingle). */
export function shingles(text: string, n: number): Set<string> {
  const w = shingleWords(text);
  const out = new Set<string>();
  if (w.length < n) {
    if (w.length) out.add(w.join(" "));
    return out;
  }
  for (let i = 0; i + n <= w.length; i++) out.add(w.slice(i, i + n).join(" "));
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union ? inter / union : 1;
}

export class MinHasher {
  private readonly a: Uint32Array;
  private readonly b: Uint32Array;
  private constructor(
    readonly cfg: MinHashConfig,
    private readonly h32: (input: string, seed?: number) => number,
  ) {
    const k = cfg.bands * cfg.rows;
    this.a = new Uint32Array(k);
    this.b = new Uint32Array(k);
    let x = (cfg.seed * 2654435761) >>> 0 || 1;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    for (let i = 0; i < k; i++) {
      this.a[i] = next() | 1;
      this.b[i] = next();
    }
  }

  static async create(cfg: MinHashConfig = DEFAULT_MINHASH): Promise<MinHasher> {
    const { h32 } = await xxhash();
    return new MinHasher(cfg, h32);
  }

  signature(text: string): Uint32Array {
    const k = this.a.length;
    const sig = new Uint32Array(k).fill(0xffffffff);
    for (const s of shingles(text, this.cfg.shingle)) {
      const h = this.h32(s, this.cfg.seed);
      for (let i = 0; i < k; i++) {
        const v = (Math.imul(this.a[i]!, h) + this.b[i]!) >>> 0;
        if (v < sig[i]!) sig[i] = v;
      }
    }
    return sig;
  }

  /** One key per band (xxHash32 of the band's values). */
  bandKeys(sig: Uint32Array): number[] {
    const keys: number[] = [];
    const r = this.cfg.rows;
    for (let band = 0; band < this.cfg.bands; band++) {
      let s = "";
      for (let j = 0; j < r; j++) s += sig[band * r + j]!.toString(36) + ",";
      keys.push(this.h32(s, band));
    }
    return keys;
  }
}

/** Estimated Jaccard from two signatures: the share of equal positions. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}
