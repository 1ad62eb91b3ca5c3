import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { phaseText, runPhase } from "../../src/protocol/runPhase";

const running = { state: "running" as const, step: 10, totalSteps: 60 };
const text = (...a: Parameters<typeof runPhase>) => phaseText(runPhase(...a));

describe("runPhase", () => {
  test("daemon starting, pretraining n/N, training, validating, merging, evaluating", () => {
    assert.equal(text({ ...running, state: "queued", step: 0 }, undefined, true), "daemon starting");
    assert.equal(text({ ...running, step: 0 }, { operation: "prepare", title: "Preparing x: clean pretraining", message: "step 9/60, loss 2.1" }), "pretraining 9/60");
    assert.equal(text({ ...running, step: 0 }, { operation: "prepare", title: "Preparing x: clean pretraining" }), "pretraining");
    assert.equal(text({ ...running, step: 0 }, { operation: "prepare", title: "Preparing x: loading data" }), "preparing");
    assert.equal(text(running), "training 10/60");
    assert.equal(text({ ...running, step: 50 }, { operation: "validate", title: "Validating" }), "validating at step 50");
    assert.equal(text({ ...running, state: "merging" }, { operation: "merge", title: "Merging", percentage: 33.3 }), "merging 33%");
    assert.equal(text({ ...running, state: "evaluating" }), "evaluating");
  });

  test("pausing wins over an open validation; settled states read as themselves", () => {
    assert.equal(text({ ...running, state: "pausing" }, { operation: "validate", title: "Validating" }), "pausing");
    for (const state of ["paused", "completed", "failed", "stopped", "interrupted"] as const) assert.equal(text({ ...running, state }), state);
    assert.equal(text({ ...running, state: "queued" }), "queued");
  });
});
