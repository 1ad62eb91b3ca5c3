// The compare-runs page's chart series and CSV exports, pure so node:test checks them. One
// series per run for each metric (runs get distinct colours, webview/compare.ts).
import { compareRunLabel, type CompareRow, type CompareRun, type ConfigDiffRow } from "../src/protocol/compare";
import { ema, type Series } from "./series";

export const OVERLAY_METRICS = [
  { id: "loss", title: "Training loss (EMA)", smooth: true },
  { id: "advAcc", title: "Training accuracy on adversarial batches (EMA)", smooth: true },
  { id: "cleanAcc", title: "Training accuracy on clean batches (EMA)", smooth: true },
  { id: "lr", title: "Learning rate", smooth: false },
] as const;
export type OverlayMetric = (typeof OVERLAY_METRICS)[number]["id"];

/** The metric of every run, EMA-smoothed where the chart says so. */
export function overlaySeries(runs: readonly CompareRun[], metric: OverlayMetric, smoothing: number): Series[] {
  const smooth = OVERLAY_METRICS.find((m) => m.id === metric)!.smooth;
  return runs.map((run, i) => {
    const raw = run.steps.step.map((x, j) => ({ x, y: run.steps[metric][j] }));
    return { label: compareRunLabel(run), points: smooth ? ema(raw, smoothing) : raw, group: i };
  });
}

/** The target whose validation curve stands for a run: its best checkpoint's, else the first validated. */
export function validationTarget(run: CompareRun): string | undefined {
  const val = run.evaluations.filter((e) => (e.split ?? "val") === "val");
  if (run.bestTarget && val.some((e) => e.target === run.bestTarget)) return run.bestTarget;
  return val[0]?.target;
}

/** Validation worst-case robust accuracy over steps, one series per run that validated. */
export function validationSeries(runs: readonly CompareRun[]): Series[] {
  return runs.flatMap((run, i) => {
    const target = validationTarget(run);
    if (!target) return [];
    const points = run.evaluations
      .filter((e) => (e.split ?? "val") === "val" && e.target === target)
      .map((e) => ({ x: e.step, y: e.worstCaseRobustAccuracy }))
      .sort((a, b) => a.x - b.x);
    return [{ label: `${compareRunLabel(run)} (${target})`, points, group: i }];
  });
}

/** RFC 4180: quote fields holding a comma, quote or line break. */
export function csvField(v: string | number | undefined): string {
  const s = v === undefined ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csv = (header: string[], rows: Array<Array<string | number | undefined>>) =>
  [header, ...rows].map((r) => r.map(csvField).join(",")).join("\n") + "\n";

/** A chart's data in long form: one line per run and point. */
export function seriesCsv(series: readonly Series[], valueName: string): string {
  return csv(["run", "step", valueName], series.flatMap((s) => s.points.map((p) => [s.label, p.x, p.y])));
}

export function tableCsv(rows: readonly CompareRow[]): string {
  return csv(
    ["run", "name", "model", "final_worst_case", "final_clean", "final_split", "final_step", "best_worst_case", "best_split", "best_step"],
    rows.map((r) => [r.runId, r.runName, r.target, r.final?.worstCase, r.final?.clean, r.final?.split, r.final?.step, r.best?.worstCase, r.best?.split, r.best?.step]),
  );
}

export function diffCsv(diff: readonly ConfigDiffRow[], runs: readonly CompareRun[]): string {
  return csv(["field", ...runs.map(compareRunLabel)], diff.map((d) => [d.path, ...d.values]));
}
