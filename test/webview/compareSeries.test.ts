import { test } from "node:test";
import assert from "node:assert/strict";
import { csvField, diffCsv, overlaySeries, seriesCsv, tableCsv, validationSeries } from "../../webview/compareSeries";
import type { CompareRun } from "../../src/protocol/compare";

const run = (id: string, losses: number[], evaluations: CompareRun["evaluations"] = [], bestTarget?: string): CompareRun => ({
  id, name: "demo", state: "completed", method: "hyperat", bestTarget,
  steps: { step: losses.map((_, i) => i + 1), loss: losses, cleanAcc: losses.map(() => 0.5), advAcc: losses.map(() => 0.25), lr: losses.map((_, i) => 0.1 * (i + 1)) },
  evaluations,
});
const ev = (step: number, target: string, worst: number, split: "val" | "test" = "val") => ({ step, target, cleanAccuracy: 0.9, robustAccuracy: {}, worstCaseRobustAccuracy: worst, split });

test("overlay: one series per run, each in its own colour group, EMA as the dashboard smooths", () => {
  const s = overlaySeries([run("a", [1, 3]), run("b", [2, 2, 2])], "loss", 0.5);
  assert.deepEqual(s.map((x) => [x.label, x.group, x.points.length]), [["a", 0, 2], ["b", 1, 3]]);
  // Debiased EMA of [1, 3] at 0.5: 1, then (0.25 + 1.5) / 0.75 = 2.333...
  assert.deepEqual(s[0].points.map((p) => +p.y.toFixed(4)), [1, 2.3333]);
  // The learning rate is drawn raw.
  assert.deepEqual(overlaySeries([run("a", [1, 3])], "lr", 0.9)[0].points.map((p) => p.y), [0.1, 0.2]);
});

test("validation overlay follows each run's best target, else its first validated one; test records are left out", () => {
  const a = run("a", [1], [ev(10, "pgd", 0.1), ev(10, "uniform", 0.3), ev(20, "uniform", 0.4), ev(20, "uniform", 0.9, "test")], "uniform");
  const b = run("b", [1], [ev(5, "full-at", 0.2)]);
  const c = run("c", [1]);
  const s = validationSeries([a, b, c]);
  assert.deepEqual(s.map((x) => x.label), ["a (uniform)", "b (full-at)"]);
  assert.deepEqual(s[0].points, [{ x: 10, y: 0.3 }, { x: 20, y: 0.4 }]);
  assert.deepEqual(s.map((x) => x.group), [0, 1]);
});

test("CSV exports: long-form series, the table and the diff, RFC 4180 quoting", () => {
  assert.equal(csvField('say "hi", twice'), '"say ""hi"", twice"');
  assert.equal(csvField(undefined), "");
  assert.equal(seriesCsv([{ label: "a", points: [{ x: 1, y: 0.5 }] }, { label: "b,c", points: [{ x: 2, y: 1 }] }], "loss"), "run,step,loss\na,1,0.5\n\"b,c\",2,1\n");
  assert.equal(
    tableCsv([{ runId: "a", runName: "demo", target: "uniform", final: { worstCase: 0.4, clean: 0.8, split: "test", step: 30 }, best: { worstCase: 0.5, split: "val", step: 20 } }, { runId: "b", runName: "demo", target: "x" }]),
    "run,name,model,final_worst_case,final_clean,final_split,final_step,best_worst_case,best_split,best_step\na,demo,uniform,0.4,0.8,test,30,0.5,val,20\nb,demo,x,,,,,,,\n",
  );
  assert.equal(diffCsv([{ path: "seed", values: ["1", undefined] }], [run("a", []), run("b", [])]), "field,a,b\nseed,1,\n");
});

test("a run with a display name is labelled by it in the legends and the diff; others by their id", () => {
  const named = { ...run("r1", [1], [ev(10, "uniform", 0.3)]), displayName: "eps 8 baseline" };
  const plain = run("r2", [1], [ev(10, "uniform", 0.2)]);
  assert.deepEqual(overlaySeries([named, plain], "loss", 0).map((s) => s.label), ["eps 8 baseline", "r2"]);
  assert.deepEqual(validationSeries([named, plain]).map((s) => s.label), ["eps 8 baseline (uniform)", "r2 (uniform)"]);
  assert.equal(diffCsv([{ path: "seed", values: ["1", "2"] }], [named, plain]), "field,eps 8 baseline,r2\nseed,1,2\n");
});
