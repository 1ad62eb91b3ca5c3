import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { summarizeMetrics, parseMetricsLines, percent } from "../../src/extension/metricsSummary";

describe("summarizeMetrics", () => {
  const events = [
    { kind: "step", step: 1, defense: "pgd-at", loss: 2.0 },
    { kind: "step", step: 2, defense: "trades", loss: 1.8 },
    { kind: "step", step: 3, defense: "pgd-at", loss: 1.5 },
    { kind: "step", step: 4, defense: "pgd-at", loss: 1.25 },
    { kind: "loraNorms", step: 4 },
    { kind: "validation", step: 4, target: "pgd-at", worstCaseRobustAccuracy: 0.25 },
    { kind: "validation", step: 4, target: "uniform", worstCaseRobustAccuracy: 0.5 },
    { kind: "validation", step: 8, target: "pgd-at", worstCaseRobustAccuracy: 0.375 },
  ];

  test("shares are sampled counts over all steps, in config order, keeping unsampled defenses", () => {
    const s = summarizeMetrics(events, ["pgd-at", "trades", "mart"]);
    assert.deepEqual(
      s.defenses.map((d) => [d.name, d.sampled, d.share]),
      [["pgd-at", 3, 0.75], ["trades", 1, 0.25], ["mart", 0, 0]],
    );
    assert.equal(s.lastStep, 4);
    assert.equal(s.lastLoss, 1.25);
  });

  test("last robust accuracy per defense is the latest validation; merges go to otherTargets; best is the max", () => {
    const s = summarizeMetrics(events, ["pgd-at", "trades"]);
    assert.equal(s.defenses[0].lastRobustAccuracy, 0.375);
    assert.equal(s.defenses[1].lastRobustAccuracy, undefined);
    assert.deepEqual(s.otherTargets, { uniform: 0.5 });
    assert.equal(s.bestRobustAccuracy, 0.5);
  });

  test("no events: zero shares, no best", () => {
    const s = summarizeMetrics([], ["mart"]);
    assert.deepEqual(s.defenses, [{ name: "mart", sampled: 0, share: 0 }]);
    assert.equal(s.bestRobustAccuracy, undefined);
  });
});

describe("parseMetricsLines", () => {
  test("skips a torn last line and non-events", () => {
    const text = '{"kind":"step","step":1,"defense":"mart"}\n[1,2]\n\n{"kind":"validation","step":1,"tar';
    assert.deepEqual(parseMetricsLines(text), [{ kind: "step", step: 1, defense: "mart" }]);
  });
});

test("percent formats fractions and unknowns", () => {
  assert.equal(percent(0.4123), "41.2%");
  assert.equal(percent(1, 0), "100%");
  assert.equal(percent(undefined), "–");
});
