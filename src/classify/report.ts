import type { EvalMetrics, PointMetrics } from "./metrics.js";

const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

function row(label: string, p: PointMetrics): string {
  return `${label.padEnd(22)} ${f(p.threshold, 6).padStart(9)} ${f(p.precision).padStart(9)} ${f(p.recall).padStart(7)} ${f(p.f1).padStart(7)} ${f(p.fpr, 5).padStart(8)}`;
}

/** The readable table of an evaluation. */
export function metricsTable(m: EvalMetrics, title: string): string {
  const lines = [
    `${title}: ${m.positives} positives, ${m.negatives} negatives; ROC-AUC ${f(m.rocAuc)}, PR-AUC ${f(m.prAuc)}`,
    `${"".padEnd(22)} ${"cut-off".padStart(9)} ${"precision".padStart(9)} ${"recall".padStart(7)} ${"F1".padStart(7)} ${"FPR".padStart(8)}`,
    row("at cut-off in use", m.atCutoff),
    row("at 1% FPR", m.at1pctFpr),
    row("at 0.1% FPR", m.at01pctFpr),
    ...m.table.map((p) => row(`score >= ${p.threshold}`, p)),
  ];
  return lines.join("\n") + "\n";
}

/** Metrics as stable, rounded JSON. */
export function metricsJson(m: EvalMetrics): Record<string, unknown> {
  const p = (x: PointMetrics) => ({ threshold: +x.threshold.toFixed(6), precision: +x.precision.toFixed(6), recall: +x.recall.toFixed(6), f1: +x.f1.toFixed(6), fpr: +x.fpr.toFixed(6) });
  return {
    positives: m.positives,
    negatives: m.negatives,
    roc_auc: +m.rocAuc.toFixed(6),
    pr_auc: +m.prAuc.toFixed(6),
    at_cutoff: p(m.atCutoff),
    at_1pct_fpr: p(m.at1pctFpr),
    at_0_1pct_fpr: p(m.at01pctFpr),
    thresholds: m.table.map(p),
  };
}
