import { test } from "node:test";
import assert from "node:assert/strict";
import { formatPercent } from "../../../src/core/evaluate/percent";

test("accuracies print with two decimals; missing or non-finite values print as a dash", () => {
  assert.equal(formatPercent(0.44), "44.00%");
  assert.equal(formatPercent(1), "100.00%");
  assert.equal(formatPercent(0), "0.00%");
  assert.equal(formatPercent(0.56171), "56.17%");
  assert.equal(formatPercent(undefined), "–");
  assert.equal(formatPercent(NaN), "–");
});
