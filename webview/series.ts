// Chart data derived from a run's detail, pure so it is unit-tested under node:test.
// The webview may import types only from src/protocol (no runtime deps on the host side).
import type { EvaluationRecord, LoraNormsSnapshot, MergeRecord, StepMetric } from "../src/protocol/runs";

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  label: string;
  points: Point[];
  /** Drawn dashed (clean accuracy). */
  dashed?: boolean;
  /** Series with the same group share a color (a target's robust and clean lines). */
  group?: number;
  /** Drawn thin and translucent (the raw values under a smoothed line). */
  faint?: boolean;
  /** Points only, as large markers (the best validation). */
  marker?: boolean;
  hideInLegend?: boolean;
}

/**
 * Running share of each defense among the steps so far, one point per step: with HyperAT's
 * uniform random sampling every line should settle near 1/K.
 */
export function samplingShares(metrics: readonly StepMetric[], defenses: readonly string[]): Series[] {
  const counts = new Map<string, number>(defenses.map((d) => [d, 0]));
  const series = new Map<string, Point[]>(defenses.map((d) => [d, []]));
  let n = 0;
  for (const m of [...metrics].sort((a, b) => a.step - b.step)) {
    if (!counts.has(m.defense)) {
      counts.set(m.defense, 0);
      series.set(m.defense, []);
    }
    counts.set(m.defense, counts.get(m.defense)! + 1);
    n++;
    for (const [d, c] of counts) series.get(d)!.push({ x: m.step, y: c / n });
  }
  return [...series].map(([label, points]) => ({ label, points }));
}

/**
 * Exponential moving average as TensorBoard's scalar dashboard smooths (weight in [0, 1)):
 * last = w·last + (1 − w)·y, divided by 1 − w^n so the first points are not pulled toward 0
 * (the debiasing of Adam's moment estimates). Non-finite values pass through unsmoothed.
 */
export function ema(points: readonly Point[], weight: number): Point[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  let last = 0;
  let n = 0;
  return points.map((p) => {
    if (!Number.isFinite(p.y)) return { x: p.x, y: p.y };
    last = w * last + (1 - w) * p.y;
    n++;
    return { x: p.x, y: w === 0 ? p.y : last / (1 - w ** n) };
  });
}

const bySteps = (metrics: readonly StepMetric[]) => [...metrics].sort((a, b) => a.step - b.step);

/** Loss per step and its EMA (the raw loss jumps with the sampled defense). */
export function lossCurves(metrics: readonly StepMetric[], smoothing = 0.6): Series[] {
  const raw = bySteps(metrics).map((m) => ({ x: m.step, y: m.loss }));
  return [
    { label: "loss", points: raw, faint: true, group: 0 },
    { label: `loss (EMA ${smoothing.toFixed(2)})`, points: ema(raw, smoothing), group: 0 },
  ];
}

/** Training-batch accuracy, clean and on the defense's adversarial batch, raw (faint) and smoothed. */
export function trainAccuracyCurves(metrics: readonly StepMetric[], smoothing = 0.6): Series[] {
  const sorted = bySteps(metrics);
  const clean = sorted.map((m) => ({ x: m.step, y: m.cleanAcc }));
  const adv = sorted.map((m) => ({ x: m.step, y: m.advAcc }));
  return [
    { label: "clean (raw)", points: clean, faint: true, group: 0, hideInLegend: true },
    { label: "clean", points: ema(clean, smoothing), dashed: true, group: 0 },
    { label: "adversarial (raw)", points: adv, faint: true, group: 1, hideInLegend: true },
    { label: "adversarial", points: ema(adv, smoothing), group: 1 },
  ];
}

/** The learning rate per step (warmup and decay show here). */
export function lrCurve(metrics: readonly StepMetric[]): Series[] {
  return [{ label: "learning rate", points: bySteps(metrics).map((m) => ({ x: m.step, y: m.lr })) }];
}

/** Per target, the validation/evaluation with the highest worst-case robust accuracy (ties: the
 * earliest), as one marker point each: where a "best checkpoint" would be taken. */
export function bestPoints(evaluations: readonly EvaluationRecord[]): Series[] {
  const best = new Map<string, EvaluationRecord>();
  for (const e of [...evaluations].sort((a, b) => a.step - b.step)) {
    if (!Number.isFinite(e.worstCaseRobustAccuracy)) continue;
    const b = best.get(e.target);
    if (!b || e.worstCaseRobustAccuracy > b.worstCaseRobustAccuracy) best.set(e.target, e);
  }
  const targets = [...new Set(evaluations.map((e) => e.target))];
  return targets.filter((t) => best.has(t)).map((t) => {
    const e = best.get(t)!;
    return { label: `${t} best`, points: [{ x: e.step, y: e.worstCaseRobustAccuracy }], group: targets.indexOf(t), marker: true, hideInLegend: true };
  });
}

/** Robust (worst-case) accuracy per evaluated target over steps, plus each target's clean accuracy dashed. */
export function accuracyCurves(evaluations: readonly EvaluationRecord[]): Series[] {
  const targets = [...new Set(evaluations.map((e) => e.target))];
  return targets.flatMap((t, group) => {
    const evs = evaluations.filter((e) => e.target === t).sort((a, b) => a.step - b.step);
    return [
      { label: `${t} robust`, points: evs.map((e) => ({ x: e.step, y: e.worstCaseRobustAccuracy })), group },
      { label: `${t} clean`, points: evs.map((e) => ({ x: e.step, y: e.cleanAccuracy })), dashed: true, group },
    ];
  });
}

export interface Heatmap {
  rows: string[];
  cols: string[];
  /** values[row][col] */
  values: number[][];
  min: number;
  max: number;
}

function heatmap(rows: string[], cols: string[], values: number[][]): Heatmap {
  const flat = values.flat().filter(Number.isFinite);
  return { rows, cols, values, min: flat.length ? Math.min(...flat) : 0, max: flat.length ? Math.max(...flat) : 0 };
}

/** Layers × defenses of ‖ΔW‖_F at one snapshot. */
export function normsHeatmap(snapshot: LoraNormsSnapshot): Heatmap {
  const defenses = Object.keys(snapshot.norms);
  return heatmap(snapshot.layers, defenses, snapshot.layers.map((_, i) => defenses.map((d) => snapshot.norms[d][i])));
}

/** Adaptive merge's λ as layers × defenses, from the latest merge that has them. */
export function lambdaHeatmap(merges: readonly MergeRecord[]): Heatmap | undefined {
  const m = [...merges].reverse().find((x) => x.lambdas && Object.keys(x.lambdas).length > 0);
  if (!m?.lambdas) return undefined;
  const defenses = Object.keys(m.lambdas);
  const n = Math.max(...defenses.map((d) => m.lambdas![d].length));
  const rows = Array.from({ length: n }, (_, i) => `block ${i}`);
  return heatmap(rows, defenses, rows.map((_, i) => defenses.map((d) => m.lambdas![d][i] ?? NaN)));
}

/** 0..1 position of v between min and max (0.5 when they are equal). */
export function scale01(v: number, min: number, max: number): number {
  return max > min ? (v - min) / (max - min) : 0.5;
}
