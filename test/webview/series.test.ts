import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { StepMetric } from "../../src/protocol/runs";
import { accuracyCurves, bestPoints, ema, lambdaHeatmap, lossCurves, lrCurve, normsHeatmap, samplingShares, scale01, trainAccuracyCurves } from "../../webview/series";

const m = (step: number, defense: string, loss = 1): StepMetric => ({ step, totalSteps: 10, defense, loss, cleanAcc: 0.5, advAcc: 0.2, lr: 1e-3, seconds: 0.1 });

describe("dashboard series", () => {
  test("sampling shares are running fractions that sum to 1 at every step", () => {
    const s = samplingShares([m(2, "trades"), m(1, "pgd-at"), m(3, "pgd-at"), m(4, "mart")], ["pgd-at", "trades", "mart"]);
    assert.deepEqual(s.map((x) => x.label), ["pgd-at", "trades", "mart"]);
    assert.deepEqual(s[0].points.map((p) => p.y), [1, 0.5, 2 / 3, 0.5]);
    assert.deepEqual(s[2].points.map((p) => p.y), [0, 0, 0, 0.25]);
    for (let i = 0; i < 4; i++) assert.equal(s.reduce((a, x) => a + x.points[i].y, 0).toFixed(12), "1.000000000000");
  });

  test("EMA is TensorBoard's debiased smoothing (hand-computed), 0 is the identity, NaN passes through", () => {
    const pts = [{ x: 1, y: 4 }, { x: 2, y: 2 }, { x: 3, y: NaN }, { x: 4, y: 0 }];
    // w = 0.5: last 2, 2 → debiased 4; last 1 + 1 = 2 → /0.75 = 8/3; NaN; last 1 → /0.875 = 8/7.
    const got = ema(pts, 0.5).map((p) => p.y);
    assert.equal(got[0], 4);
    assert.ok(Math.abs(got[1] - 8 / 3) < 1e-12);
    assert.ok(Number.isNaN(got[2]));
    assert.ok(Math.abs(got[3] - 8 / 7) < 1e-12);
    assert.deepEqual(ema(pts, 0).map((p) => p.y), [4, 2, NaN, 0]);
    const flat = ema(Array.from({ length: 50 }, (_, i) => ({ x: i, y: 3 })), 0.99);
    assert.ok(flat.every((p) => Math.abs(p.y - 3) < 1e-9), "a constant stays constant: no pull toward 0");
  });

  test("loss, training accuracy and learning rate curves come from every step, sorted", () => {
    const steps = [m(2, "a", 2), m(1, "a", 4), m(3, "a", 0)];
    const [raw, smooth] = lossCurves(steps, 0.5);
    assert.deepEqual(raw.points, [{ x: 1, y: 4 }, { x: 2, y: 2 }, { x: 3, y: 0 }]);
    assert.equal(raw.faint, true);
    assert.ok(Math.abs(smooth.points[1].y - 8 / 3) < 1e-12);
    const acc = trainAccuracyCurves(steps, 0);
    assert.deepEqual(acc.map((s) => s.label), ["clean (raw)", "clean", "adversarial (raw)", "adversarial"]);
    assert.deepEqual(acc[3].points.map((p) => p.y), [0.2, 0.2, 0.2]);
    assert.deepEqual(lrCurve(steps)[0].points.map((p) => p.x), [1, 2, 3]);
  });

  test("best validation: per target the highest worst case, earliest on ties, as a marker", () => {
    const ev = (step: number, target: string, rob: number) => ({ step, target, cleanAccuracy: 0.9, robustAccuracy: {}, worstCaseRobustAccuracy: rob });
    const b = bestPoints([ev(30, "mart", 0.4), ev(10, "mart", 0.5), ev(20, "mart", 0.5), ev(10, "trades", NaN), ev(20, "trades", 0.2)]);
    assert.deepEqual(b.map((s) => [s.label, s.points, s.marker, s.group]), [
      ["mart best", [{ x: 10, y: 0.5 }], true, 0],
      ["trades best", [{ x: 20, y: 0.2 }], true, 1],
    ]);
  });

  test("accuracy curves: robust solid and clean dashed per target, same color group", () => {
    const ev = (step: number, target: string, clean: number, rob: number) => ({ step, target, cleanAccuracy: clean, robustAccuracy: { pgd: rob }, worstCaseRobustAccuracy: rob });
    const s = accuracyCurves([ev(20, "mart", 0.8, 0.4), ev(10, "mart", 0.7, 0.3), ev(20, "uniform", 0.9, 0.5)]);
    assert.deepEqual(s.map((x) => [x.label, x.dashed ?? false, x.group]), [
      ["mart robust", false, 0],
      ["mart clean", true, 0],
      ["uniform robust", false, 1],
      ["uniform clean", true, 1],
    ]);
    assert.deepEqual(s[0].points, [{ x: 10, y: 0.3 }, { x: 20, y: 0.4 }]);
  });

  test("norms heatmap is layers x defenses with its range", () => {
    const h = normsHeatmap({ step: 5, layers: ["l0", "l1"], norms: { a: [1, 2], b: [3, 0.5] } });
    assert.deepEqual(h, { rows: ["l0", "l1"], cols: ["a", "b"], values: [[1, 3], [2, 0.5]], min: 0.5, max: 3 });
  });

  test("lambda heatmap comes from the latest merge that has lambdas", () => {
    const time = "t";
    assert.equal(lambdaHeatmap([{ strategy: "uniform", modelPath: "m", time }]), undefined);
    const h = lambdaHeatmap([
      { strategy: "adaptive", modelPath: "m1", time, lambdas: { a: [9, 9] } },
      { strategy: "adaptive", modelPath: "m2", time, lambdas: { a: [0.2, 0.4], b: [0.8, 0.6] } },
      { strategy: "uniform", modelPath: "m3", time },
    ])!;
    assert.deepEqual(h.rows, ["block 0", "block 1"]);
    assert.deepEqual(h.values, [[0.2, 0.8], [0.4, 0.6]]);
  });

  test("scale01", () => {
    assert.equal(scale01(2, 1, 3), 0.5);
    assert.equal(scale01(5, 5, 5), 0.5);
  });
});
