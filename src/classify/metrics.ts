/**
 * Classifier metrics from scores of known positives and negatives: ROC-AUC, PR-AUC (average
 * precision), recall at a false-positive rate, precision/recall/F1 at a cut-off, a threshold
 * table and the PR curve.
 */
export interface PointMetrics {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
  fpr: number;
}

export interface EvalMetrics {
  positives: number;
  negatives: number;
  rocAuc: number;
  prAuc: number;
  /** Cut-off above which at most 1 % of negatives score, and the recall there. */
  at1pctFpr: PointMetrics;
  at01pctFpr: PointMetrics;
  /** At the cut-off in use (given, or the 1 % FPR one). */
  atCutoff: PointMetrics;
  table: PointMetrics[];
}

const desc = (a: number, b: number) => b - a;

/** Share of `sorted` (descending) that is ≥ t. */
function shareAtLeast(sorted: number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! >= t) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length ? lo / sorted.length : 0;
}

export function pointAt(pos: number[], neg: number[], t: number): PointMetrics {
  const recall = shareAtLeast(pos, t);
  const fpr = shareAtLeast(neg, t);
  const tp = recall * pos.length;
  const fp = fpr * neg.length;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { threshold: t, precision, recall, f1, fpr };
}

/**
 * The lowest cut-off at which at most `rate` of the negatives score at or above it (the score
 * just above the ⌈rate·n⌉-th highest negative).
 */
export function cutoffForFpr(negScores: number[], rate: number): number {
  const neg = [...negScores].sort(desc);
  if (neg.length === 0) return 0.5;
  const allowed = Math.floor(rate * neg.length);
  const boundary = neg[allowed];
  if (boundary === undefined) return 0;
  return Math.min(1, boundary + 1e-9);
}

/** Scores this close count as equal where they saturate (P within 1e-4 of 1). */
const SATURATED = 1e-4;

/** What `cutoffForFprInPool` needs to estimate a crawl's math share: held-out positives, and pages. */
export const POOL_MIN_POSITIVES = 20;
export const POOL_MIN_PAGES = 50;

/**
 * The cut-off that lets through at most `rate` of the non-math pages of a crawl whose pages
 * (`pool`, unlabeled) hold math too, given held-out positives' scores (`pos`). Sampled pages
 * serve as negatives, and where the crawl is a few per cent math, 1 % of them is math: the plain
 * `cutoffForFpr` then rises into the math pages' scores (recall 0.05 on the bundled crawl, 13 %
 * math; 0.12 in a round of a 2 %-math crawl). The pool's math share π is estimated from the
 * pages above the median positive score (π = pool share above it / ½: non-math pages that
 * high are taken as none), and a threshold's non-math rate as (pool share above − π · positive
 * share above) / (1 − π). Undefined when there are too few scores to estimate (then the plain one).
 */
export function cutoffForFprInPool(pool: ArrayLike<number>, pos: number[], rate: number): { cutoff: number; mathShare: number } | undefined {
  const u = Float64Array.from(pool).sort().reverse();
  const atLeast = (t: number) => {
    let k = 0;
    while (k < u.length && u[k]! >= t) k++;
    return k;
  };
  return cutoffForFprInRanked({ size: u.length, atLeast, ranked: () => u }, pos, rate);
}

/**
 * The unlabeled pool as `cutoffForFprInRanked` reads it, without holding it: its size, how many
 * of its scores are at least t, and its scores from the highest down (read only until the cut-off
 * is found: the top few per cent of a crawl that is a few per cent math).
 */
export interface RankedPool {
  size: number;
  atLeast(t: number): number;
  ranked(): Iterable<number>;
}

/** `cutoffForFprInPool` over a pool read from the top (a run's stores: every score never held at once). */
export function cutoffForFprInRanked(pool: RankedPool, pos: number[], rate: number): { cutoff: number; mathShare: number } | undefined {
  if (pos.length < POOL_MIN_POSITIVES || pool.size < POOL_MIN_PAGES) return undefined;
  const n = pool.size;
  const p = [...pos].sort(desc);
  const median = p[Math.floor(p.length / 2)]!;
  const above = pool.atLeast(median);
  const posAbove = p.filter((x) => x >= median).length / p.length;
  const pi = Math.min(0.99, above / n / posAbove);
  const it = pool.ranked()[Symbol.iterator]();
  try {
    let next = it.next();
    if (next.done) return undefined;
    let cutoff = Math.min(1, next.value + 1e-9);
    let i = 0;
    let j = 0;
    while (!next.done) {
      const t = next.value;
      while (!next.done && next.value === t) {
        i++; // ties: all pages at t are in
        next = it.next();
      }
      // positives within SATURATED of t count as at t: a model sure of itself gives many crawl
      // pages a score of exactly 1.0 and held-out seeds 0.99999…, which read as "all non-math"
      // and stopped the walk at the top (a cut-off of 1.0 on a 2 %-math crawl: 1 page of 40)
      while (j < p.length && p[j]! >= t - SATURATED) j++;
      const nonMath = (i / n - pi * (j / p.length)) / (1 - pi);
      if (nonMath > rate) break;
      cutoff = t;
    }
    return { cutoff, mathShare: pi };
  } finally {
    it.return?.();
  }
}

/** ROC-AUC by the rank-sum statistic (ties count half). */
export function rocAuc(pos: number[], neg: number[]): number {
  if (pos.length === 0 || neg.length === 0) return NaN;
  const all = [...pos.map((s) => [s, 1] as const), ...neg.map((s) => [s, 0] as const)].sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]![0] === all[i]![0]) j++;
    const avg = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]![1] === 1) rankSum += avg;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}

/** Average precision, and the PR curve (recall, precision) at every distinct score. */
export function prCurve(pos: number[], neg: number[]): { ap: number; points: Array<[number, number]> } {
  const all = [...pos.map((s) => [s, 1] as const), ...neg.map((s) => [s, 0] as const)].sort((a, b) => b[0] - a[0]);
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let lastRecall = 0;
  const points: Array<[number, number]> = [];
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]![0] === all[i]![0]) {
      if (all[j]![1] === 1) tp++;
      else fp++;
      j++;
    }
    const recall = pos.length ? tp / pos.length : 0;
    const precision = tp / (tp + fp);
    ap += (recall - lastRecall) * precision;
    lastRecall = recall;
    points.push([recall, precision]);
    i = j;
  }
  return { ap, points };
}

const TABLE = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];

export function evaluate(posScores: number[], negScores: number[], cutoff?: number): EvalMetrics {
  const pos = [...posScores].sort(desc);
  const neg = [...negScores].sort(desc);
  const c1 = cutoffForFpr(neg, 0.01);
  const c01 = cutoffForFpr(neg, 0.001);
  return {
    positives: pos.length,
    negatives: neg.length,
    rocAuc: rocAuc(pos, neg),
    prAuc: prCurve(pos, neg).ap,
    at1pctFpr: pointAt(pos, neg, c1),
    at01pctFpr: pointAt(pos, neg, c01),
    atCutoff: pointAt(pos, neg, cutoff ?? c1),
    table: TABLE.map((t) => pointAt(pos, neg, t)),
  };
}

/** A small standalone SVG of the PR curve. */
export function prCurveSvg(posScores: number[], negScores: number[], title: string): string {
  const { points, ap } = prCurve(posScores, negScores);
  const W = 480;
  const H = 360;
  const M = 48;
  const x = (r: number) => M + r * (W - 2 * M);
  const y = (p: number) => H - M - p * (H - 2 * M);
  const step = Math.max(1, Math.floor(points.length / 2000));
  const path = points
    .filter((_, i) => i % step === 0 || i === points.length - 1)
    .map(([r, p], i) => `${i ? "L" : "M"}${x(r).toFixed(1)},${y(p).toFixed(1)}`)
    .join(" ");
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)} (PR-AUC ${ap.toFixed(4)})</text>`,
    ...ticks.map((t) => `<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(1)}" stroke="#eee"/><text x="${x(t)}" y="${H - M + 16}" text-anchor="middle">${t}</text>`),
    ...ticks.map((t) => `<line x1="${x(0)}" y1="${y(t)}" x2="${x(1)}" y2="${y(t)}" stroke="#eee"/><text x="${M - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`),
    `<rect x="${M}" y="${M}" width="${W - 2 * M}" height="${H - 2 * M}" fill="none" stroke="#333"/>`,
    `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    `<text x="${W / 2}" y="${H - 8}" text-anchor="middle">recall</text>`,
    `<text x="14" y="${H / 2}" text-anchor="middle" transform="rotate(-90 14 ${H / 2})">precision</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
