import { prCurve } from "../classify/metrics.js";
import { esc, num } from "./html.js";

/**
 * Charts as inline SVG (no script, no network): score histograms with the cut-off, the PR curve
 * with the cut-off's point, a line chart across rounds and the funnel's bars. Labels pass
 * through `esc`; everything else is numbers.
 */

const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "0");

function frame(w: number, h: number, label: string, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${esc(label)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui, sans-serif" font-size="11">${body.join("")}</svg>`;
}

export interface HistogramSeries {
  name: string;
  counts: number[];
  color: string;
}

/**
 * Score histograms, one panel per series (each scaled to its own largest bin, since a crawl has
 * far more pages than the held-out sets), scores 0 → 1 left to right, the cut-off a red line.
 * Each bar's tooltip gives its range and count.
 */
export function histogramSvg(series: HistogramSeries[], cutoff: number | null, title: string): string {
  const W = 560;
  const panelH = 80;
  const M = { l: 150, r: 12, t: 24, b: 28 };
  const H = M.t + series.length * (panelH + 8) + M.b;
  const plotW = W - M.l - M.r;
  const body = [`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="15" text-anchor="middle" font-size="13">${esc(title)}</text>`];
  series.forEach((s, k) => {
    const bins = s.counts.length;
    const top = M.t + k * (panelH + 8);
    const max = Math.max(1, ...s.counts);
    const total = s.counts.reduce((a, b) => a + b, 0);
    body.push(`<text x="${M.l - 8}" y="${top + panelH / 2}" text-anchor="end">${esc(s.name)}</text>`, `<text x="${M.l - 8}" y="${top + panelH / 2 + 14}" text-anchor="end" fill="#666">${num(total)} pages</text>`);
    body.push(`<rect x="${M.l}" y="${top}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#ddd"/>`);
    s.counts.forEach((c, i) => {
      if (!c) return;
      const bw = plotW / bins;
      const bh = Math.max(1, (c / max) * (panelH - 4));
      body.push(
        `<rect class="bar" x="${f(M.l + i * bw + 0.5)}" y="${f(top + panelH - bh)}" width="${f(Math.max(1, bw - 1))}" height="${f(bh)}" fill="${s.color}"><title>${esc(`${s.name}: scores ${(i / bins).toFixed(2)}–${((i + 1) / bins).toFixed(2)}: ${num(c)} pages`)}</title></rect>`,
      );
    });
  });
  const bottom = M.t + series.length * (panelH + 8) - 8;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) body.push(`<text x="${f(M.l + t * plotW)}" y="${bottom + 14}" text-anchor="middle">${t}</text>`);
  body.push(`<text x="${M.l + plotW / 2}" y="${H - 4}" text-anchor="middle">classifier score</text>`);
  if (cutoff !== null && Number.isFinite(cutoff)) {
    const x = M.l + Math.min(1, Math.max(0, cutoff)) * plotW;
    body.push(`<line class="cutoff" x1="${f(x)}" y1="${M.t - 4}" x2="${f(x)}" y2="${bottom}" stroke="#d62728" stroke-width="2"><title>cut-off ${cutoff.toFixed(6)}</title></line>`);
  }
  return frame(W, H, title, body);
}

/** The PR curve of held-out seeds against held-out negatives, with the round's cut-off as a point. */
export function prSvg(pos: number[], neg: number[], cutoff: number | null, title: string): string {
  const W = 360;
  const H = 300;
  const M = 44;
  const x = (r: number) => M + r * (W - 2 * M);
  const y = (p: number) => H - M - p * (H - 2 * M);
  const body = [`<rect width="${W}" height="${H}" fill="white"/>`];
  if (pos.length === 0 || neg.length === 0) {
    body.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no held-out pages to draw a curve from</text>`);
    return frame(W, H, title, body);
  }
  const { points, ap } = prCurve(pos, neg);
  const step = Math.max(1, Math.floor(points.length / 1500));
  const d = points
    .filter((_, i) => i % step === 0 || i === points.length - 1)
    .map(([r, p], i) => `${i ? "L" : "M"}${f(x(r))},${f(y(p))}`)
    .join(" ");
  body.push(`<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)} (PR-AUC ${ap.toFixed(4)})</text>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    body.push(`<line x1="${f(x(t))}" y1="${f(y(0))}" x2="${f(x(t))}" y2="${f(y(1))}" stroke="#eee"/><text x="${f(x(t))}" y="${H - M + 14}" text-anchor="middle">${t}</text>`);
    body.push(`<line x1="${f(x(0))}" y1="${f(y(t))}" x2="${f(x(1))}" y2="${f(y(t))}" stroke="#eee"/><text x="${M - 5}" y="${f(y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  body.push(`<rect x="${M}" y="${M}" width="${W - 2 * M}" height="${H - 2 * M}" fill="none" stroke="#333"/>`, `<path class="pr" d="${d}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  if (cutoff !== null && Number.isFinite(cutoff)) {
    const tp = pos.filter((s) => s >= cutoff).length;
    const fp = neg.filter((s) => s >= cutoff).length;
    const r = tp / pos.length;
    const p = tp + fp ? tp / (tp + fp) : 1;
    body.push(`<circle class="cutoff" cx="${f(x(r))}" cy="${f(y(p))}" r="5" fill="#d62728"><title>${esc(`cut-off ${cutoff.toFixed(6)}: recall ${r.toFixed(4)}, precision ${p.toFixed(4)}`)}</title></circle>`);
  }
  body.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle">recall (held-out seeds)</text>`, `<text x="12" y="${H / 2}" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">precision</text>`);
  return frame(W, H, title, body);
}

export interface LineSeries {
  name: string;
  values: Array<number | null>;
  color: string;
  /** Values are shares (axis 0–1) rather than counts. */
  share?: boolean;
}

/** Values per round (x = round 1, 2, …), one panel per series. */
export function roundsSvg(rounds: number[], series: LineSeries[], title: string): string {
  const W = 560;
  const panelH = 90;
  const M = { l: 150, r: 20, t: 24, b: 26 };
  const H = M.t + series.length * (panelH + 10) + M.b;
  const plotW = W - M.l - M.r;
  const xs = (i: number) => M.l + (rounds.length === 1 ? plotW / 2 : (i / (rounds.length - 1)) * plotW);
  const body = [`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="15" text-anchor="middle" font-size="13">${esc(title)}</text>`];
  series.forEach((s, k) => {
    const top = M.t + k * (panelH + 10);
    const vals = s.values.filter((v): v is number => v !== null && Number.isFinite(v));
    const max = s.share ? 1 : Math.max(1, ...vals);
    const ys = (v: number) => top + panelH - 6 - (v / max) * (panelH - 12);
    body.push(`<rect x="${M.l}" y="${top}" width="${plotW}" height="${panelH}" fill="#fafafa" stroke="#ddd"/>`, `<text x="${M.l - 8}" y="${top + panelH / 2}" text-anchor="end">${esc(s.name)}</text>`);
    const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? null : ([xs(i), ys(v), v] as const)));
    const d = pts.filter((p) => p !== null).map((p, i) => `${i ? "L" : "M"}${f(p![0])},${f(p![1])}`).join(" ");
    if (d) body.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of pts) {
      if (!p) continue;
      const label = s.share ? `${(100 * p[2]).toFixed(1)}%` : num(p[2]);
      body.push(`<circle cx="${f(p[0])}" cy="${f(p[1])}" r="3.5" fill="${s.color}"/><text x="${f(p[0])}" y="${f(p[1] - 7)}" text-anchor="middle">${esc(label)}</text>`);
    }
  });
  const bottom = M.t + series.length * (panelH + 10) - 10;
  rounds.forEach((r, i) => body.push(`<text x="${f(xs(i))}" y="${bottom + 14}" text-anchor="middle">round ${r}</text>`));
  return frame(W, H, title, body);
}

export interface FunnelStep {
  label: string;
  pages: number;
  /** What left at this step, by reason. */
  dropped?: Array<{ reason: string; n: number }>;
}

/** Pages left after each step, as bars scaled to the first; what each step dropped is in the tooltip and the label. */
export function funnelSvg(steps: FunnelStep[], title: string): string {
  const W = 760;
  const rowH = 30;
  const M = { l: 230, r: 20, t: 26 };
  const H = M.t + steps.length * rowH + 8;
  const plotW = W - M.l - M.r - 150;
  const max = Math.max(1, ...steps.map((s) => s.pages));
  const body = [`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`];
  steps.forEach((s, i) => {
    const y = M.t + i * rowH;
    const w = Math.max(s.pages > 0 ? 2 : 0, (s.pages / max) * plotW);
    const lost = (s.dropped ?? []).filter((d) => d.n > 0);
    const tip = `${s.label}: ${num(s.pages)} pages` + (lost.length ? `; dropped ${lost.map((d) => `${d.reason} ${num(d.n)}`).join(", ")}` : "");
    body.push(
      `<text x="${M.l - 8}" y="${y + 18}" text-anchor="end">${esc(s.label)}</text>`,
      `<rect class="funnel" x="${M.l}" y="${y + 5}" width="${f(w)}" height="${rowH - 10}" fill="#2c7fb8"><title>${esc(tip)}</title></rect>`,
      `<text x="${f(M.l + w + 6)}" y="${y + 18}">${esc(num(s.pages))}${lost.length ? ` <tspan fill="#a33">(−${esc(num(lost.reduce((a, d) => a + d.n, 0)))})</tspan>` : ""}</text>`,
    );
  });
  return frame(W, H, title, body);
}
