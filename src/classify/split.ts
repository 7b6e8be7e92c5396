import crypto from "node:crypto";

/**
 * The held-out split: a document is held out when the first 32 bits of sha1(id) fall below
 * `share` × 2^32. It depends on the id alone, so adding seeds never moves a document across.
 */
export function isHeldOut(id: string, share: number): boolean {
  const h = crypto.createHash("sha1").update(id).digest();
  return h.readUInt32BE(0) / 2 ** 32 < share;
}

/** A seeded PRNG (mulberry32): the same seed gives the same sample. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform sample of up to `k` items from a stream of unknown length (reservoir, algorithm R). */
export class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  private readonly random: () => number;

  constructor(
    readonly k: number,
    seed: number,
  ) {
    this.random = rng(seed);
  }

  get count(): number {
    return this.seen;
  }

  offer(item: T): void {
    this.seen++;
    if (this.items.length < this.k) this.items.push(item);
    else {
      const j = Math.floor(this.random() * this.seen);
      if (j < this.k) this.items[j] = item;
    }
  }
}

/** Fisher–Yates with a seeded PRNG. */
export function shuffle<T>(items: T[], seed: number): T[] {
  const r = rng(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
