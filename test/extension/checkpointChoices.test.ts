import { test } from "node:test";
import assert from "node:assert/strict";
import { checkpointArg, checkpointChoices } from "../../src/extension/checkpointChoices";
import type { BestRecord } from "../../src/protocol/runs";

const best: BestRecord = { target: "uniform", split: "val", attack: "pgd-10", step: 10, worstCaseRobustAccuracy: 0.4123, cleanAccuracy: 0.6 };

test("Merge/Evaluate offer latest, best (named as the run's best) and each kept step, newest first; incomplete checkpoints are left out", () => {
  const checkpoints = [
    "checkpoints/step-20.json", "checkpoints/step-20.safetensors",
    "checkpoints/step-30.json", "checkpoints/step-30.safetensors",
    "checkpoints/step-40.safetensors", // being written: no .json yet
    "checkpoints/best/step-10.json", "checkpoints/best/step-10.safetensors",
  ];
  assert.deepEqual(checkpointChoices({ checkpoints }, best), [
    { label: "latest", description: "step 30 (newest checkpoint)", from: "latest" },
    { label: "best", description: "41.2% (uniform, val pgd-10, step 10) (checkpoints/best)", from: "best" },
    { label: "step-20", description: "step 20", from: "step-20" },
  ]);
  // A best record for another step than the folder holds is not shown as its description.
  assert.equal(checkpointChoices({ checkpoints }, { ...best, step: 99 })[1].description, "step 10 (checkpoints/best)");
  assert.deepEqual(checkpointChoices({ checkpoints: ["checkpoints/step-5.json", "checkpoints/step-5.safetensors"] }).map((c) => c.from), ["latest"]);
  assert.deepEqual(checkpointChoices({ checkpoints: [] }), []);
});

test("a command argument names a checkpoint only in the RPC's grammar", () => {
  assert.equal(checkpointArg("best"), "best");
  assert.equal(checkpointArg("step-12"), "step-12");
  assert.equal(checkpointArg("step-x"), undefined);
  assert.equal(checkpointArg(3), undefined);
});
