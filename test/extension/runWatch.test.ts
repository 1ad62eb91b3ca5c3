import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { RunWatch, baseModelWarning } from "../../src/extension/runWatch";

describe("RunWatch", () => {
  test("flags a flat loss from the streamed steps, and forgets a lost attempt on resume", () => {
    const w = new RunWatch();
    for (let s = 1; s <= 30; s++) w.metric("r", s, 2.302);
    assert.deepEqual(w.warnings("r"), ["loss flat at 2.302 for 30 steps"]);
    // Resumed from step 10 with a loss that now moves: steps 11..30 of the lost attempt go.
    for (let s = 11; s <= 30; s++) w.metric("r", s, 2.302 * Math.exp(-s / 10));
    assert.deepEqual(w.warnings("r"), []);
    assert.deepEqual(w.warnings("other"), []);
  });

  test("a base model near chance is a warning naming the fix; one well above is not", () => {
    const w = new RunWatch();
    const b = { source: "cache", cleanAccuracy: 0.156, n: 128, numClasses: 10, nearChance: true, hint: "raise model.pretrain.steps" };
    w.baseModel("r", b);
    assert.deepEqual(w.warnings("r"), ["base model 15.6% clean (chance 10%): raise model.pretrain.steps"]);
    w.baseModel("ok", { ...b, cleanAccuracy: 0.8, nearChance: false, hint: undefined });
    assert.deepEqual(w.warnings("ok"), []);
    assert.equal(baseModelWarning({ ...b, numClasses: 3, hint: undefined }), "base model 15.6% clean (chance 33.3%)");
  });
});
