import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { formatDeviation, lambdaCaption, lambdaView } from "../../webview/lambdaView";

const time = "2026-12-02T00:00:00Z";

describe("λ display", () => {
  test("λ as its deviation from 1/K, from the latest merge that has λ", () => {
    const v = lambdaView([
      { strategy: "adaptive", modelPath: "m1", time, lambdas: { a: [9], b: [9] } },
      { strategy: "adaptive", modelPath: "m2", time, lambdas: { a: [0.3, 0.5], b: [0.7, 0.5] }, objective: { kind: "adversarial-ce", before: 1.23456, after: 1.19871, steps: 20 } },
      { strategy: "uniform", modelPath: "m3", time },
    ])!;
    assert.deepEqual(v.rows, ["block 0", "block 1"]);
    assert.deepEqual(v.cols, ["a", "b"]);
    assert.equal(v.k, 2);
    assert.deepEqual(v.deviation.map((r) => r.map((x) => Number(x.toFixed(6)))), [[-0.2, 0.2], [0, 0]]);
    assert.equal(v.maxAbs.toFixed(6), "0.200000");
    assert.equal(v.objective, "adversarial-ce 1.2346 → 1.1987 over 20 λ steps");
    assert.equal(lambdaCaption(v), "largest |λ − 1/2| = 0.2000 · objective adversarial-ce 1.2346 → 1.1987 over 20 λ steps");
    assert.equal(lambdaView([{ strategy: "uniform", modelPath: "m", time }]), undefined);
  });

  test("a merge whose λ stayed at 1/K says it equals the uniform merge", () => {
    const third = 1 / 3;
    const v = lambdaView([{ strategy: "adaptive", modelPath: "m", time, lambdas: { a: [third], b: [third], c: [third + 1e-6] } }])!;
    assert.match(lambdaCaption(v), /^λ did not move from 1\/K: this merge equals the uniform one$/);
  });

  test("deviations keep four decimals and a sign", () => {
    assert.equal(formatDeviation(0.012345), "+0.0123");
    assert.equal(formatDeviation(-0.004), "−0.0040");
    assert.equal(formatDeviation(0.00001), "0");
    assert.equal(formatDeviation(NaN), "–");
  });
});
