/**
 * Calibrated probabilities: a map from a model's raw score to P(math) for a page of the crawl
 * at hand, so that `--threshold 0.5` means "more likely math than not". The raw score of a
 * model trained on as many negatives as positives is no probability: with few training lines it
 * stays between 0.4 and 0.8, and it ignores how rare mathematics is in the crawl. Platt scaling
 * (a logistic map of logit(raw), fitted on held-out positives and held-out sampled pages) with
 * the classes weighted by the crawl's estimated math share: P = σ(a · logit(raw) + b). The map
 * is monotone, so it never changes a ranking, and a probability threshold is a raw cut-off
 * (`rawFor`). Platt's target smoothing ((N+1)/(N+2)) keeps a perfectly separated held-out set
 * from sending a to infinity.
 */
export interface Calibrator {
  /** "platt", or "none" (too few held-out pages to fit: P is the raw score). */
  method: "platt" | "none";
  a: number;
  b: number;
  /** The crawl's math share the classes were weighted by, and where it came from. */
  math_share: number;
  math_share_from: string;
  positives: number;
  negatives: number;
}

/** Fewest held-out positives and negatives to fit a map on. */
export const CALIBRATION_MIN = 20;

const EPS = 1e-6;
const logit = (p: number) => {
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return Math.log(q / (1 - q));
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const IDENTITY: Calibrator = { method: "none", a: 1, b: 0, math_share: 0.5, math_share_from: "none", positives: 0, negatives: 0 };

/** Fits the map on held-out scores, weighting positives by `share` and negatives by 1 − share. */
export function fitCalibrator(pos: number[], neg: number[], share: number, from: string): Calibrator {
  if (pos.length < CALIBRATION_MIN || neg.length < CALIBRATION_MIN) return { ...IDENTITY, math_share: share, math_share_from: from, positives: pos.length, negatives: neg.length };
  const pi = Math.min(1 - 1e-4, Math.max(1e-4, share));
  const xs: number[] = [];
  const ts: number[] = [];
  const ws: number[] = [];
  const tPos = (pos.length + 1) / (pos.length + 2);
  const tNeg = 1 / (neg.length + 2);
  for (const s of pos) xs.push(logit(s)), ts.push(tPos), ws.push(pi / pos.length);
  for (const s of neg) xs.push(logit(s)), ts.push(tNeg), ws.push((1 - pi) / neg.length);
  const loss = (a: number, b: number) => {
    let l = 0;
    for (let i = 0; i < xs.length; i++) {
      const z = a * xs[i]! + b;
      // log(1 + e^z) computed stably
      const lse = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
      l += ws[i]! * (lse - ts[i]! * z);
    }
    return l;
  };
  let a = 1;
  let b = logit(pi);
  let current = loss(a, b);
  for (let it = 0; it < 100; it++) {
    let ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
    for (let i = 0; i < xs.length; i++) {
      const p = sigmoid(a * xs[i]! + b);
      const d = ws[i]! * (p - ts[i]!);
      const h = ws[i]! * p * (1 - p);
      ga += d * xs[i]!;
      gb += d;
      haa += h * xs[i]! * xs[i]!;
      hab += h * xs[i]!;
      hbb += h;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    let step = 1;
    let next = loss(a - da, b - db);
    while (next > current && step > 1e-6) {
      step /= 2;
      next = loss(a - step * da, b - step * db);
    }
    if (next > current) break;
    a -= step * da;
    b -= step * db;
    const gain = current - next;
    current = next;
    if (gain < 1e-12) break;
  }
  return { method: "platt", a: +a.toPrecision(8), b: +b.toPrecision(8), math_share: share, math_share_from: from, positives: pos.length, negatives: neg.length };
}

/** P(math) of a raw score. */
export function probability(c: Calibrator, raw: number): number {
  if (c.method === "none" || !(c.a > 0)) return raw;
  return sigmoid(c.a * logit(raw) + c.b);
}

/** The raw score whose P(math) is `p` (the inverse of `probability`): a probability threshold as a raw cut-off. */
export function rawFor(c: Calibrator, p: number): number {
  if (c.method === "none" || !(c.a > 0)) return p;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  return sigmoid((logit(p) - c.b) / c.a);
}
