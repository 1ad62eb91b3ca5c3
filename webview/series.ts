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

/** Loss per step and its trailing mean over `window` steps (the raw loss jumps with the sampled defense). */
export function lossCurves(metrics: readonly StepMetric[], window = 10): Series[] {
  const sorted = [...metrics].sort((a, b) => a.step - b.step);
  const mean: Point[] = sorted.map((m, i) => {
    const slice = sorted.slice(Math.max(0, i - window + 1), i + 1);
    return { x: m.step, y: slice.reduce((s, e) => s + e.loss, 0) / slice.length };
  });
  return [
    { label: "loss", points: sorted.map((m) => ({ x: m.step, y: m.loss })) },
    { label: `mean of ${window}`, points: mean },
  ];
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
