/**
 * Counters keyed by a closed set of reasons. Stats are data: they serialise to JSON,
 * merge across files, shards and workers, and render as one human line.
 */
export class Counters<R extends string> {
  private readonly counts = new Map<R, number>();

  add(reason: R, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }

  get(reason: R): number {
    return this.counts.get(reason) ?? 0;
  }

  total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  merge(other: Counters<R>): void {
    for (const [k, v] of other.counts) this.add(k, v);
  }

  toJSON(): Partial<Record<R, number>> {
    const out: Partial<Record<R, number>> = {};
    for (const k of [...this.counts.keys()].sort()) out[k] = this.counts.get(k) ?? 0;
    return out;
  }

  /** "not_html=12 request=30" in a stable order, largest first. */
  describe(): string {
    return [...this.counts.entries()]
      .filter(([, v]) => v > 0)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
  }
}
