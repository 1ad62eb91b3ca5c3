import { test } from "node:test";
import assert from "node:assert/strict";
import { describeModel, modelOfArtifact, modelReportDir, modelSlug, modelWeightsPaths, parseModelSelector, type ModelSelector } from "../../src/protocol/modelSelector";

const MODELS: ModelSelector[] = [{ kind: "base" }, { kind: "adapter", defense: "pgd-at" }, { kind: "merged", strategy: "uniform" }, { kind: "merged", strategy: "adaptive" }];

test("each selector maps to the run files that hold it, and those files map back to it", () => {
  assert.deepEqual(modelWeightsPaths({ kind: "adapter", defense: "trades" }), ["adapters/trades/adapter_model.safetensors"]);
  assert.deepEqual(modelWeightsPaths({ kind: "merged", strategy: "uniform" }), ["merged/uniform/model.safetensors", "merged/model-uniform.safetensors"]);
  assert.deepEqual(modelWeightsPaths({ kind: "base" }), []);
  for (const m of MODELS) for (const rel of modelWeightsPaths(m)) assert.deepEqual(modelOfArtifact(rel), m, rel);
});

test("other run files hold no model", () => {
  for (const rel of ["checkpoints/step-4.safetensors", "adapters/pgd-at.safetensors", "merged/model.safetensors", "merged/uniform/config.json", "adapters/pgd-at/adapter_config.json", "report.json", "merged/../x/model.safetensors"]) {
    assert.equal(modelOfArtifact(rel), undefined, rel);
  }
});

test("names: slug for folders, words for messages; report folders differ by model and time", () => {
  assert.deepEqual(MODELS.map(modelSlug), ["base", "adapter-pgd-at", "merged-uniform", "merged-adaptive"]);
  assert.deepEqual(MODELS.map(describeModel), ["the base model", "the pgd-at adapter", "the uniform merge", "the adaptive merge"]);
  const at = new Date("2026-12-03T10:19:00.123Z");
  assert.equal(modelReportDir({ kind: "merged", strategy: "uniform" }, at), "reports/merged-uniform-2026-12-03T10-19-00-123Z");
  assert.notEqual(modelReportDir({ kind: "base" }, at), modelReportDir({ kind: "base" }, new Date(at.getTime() + 1)));
});

test("parsing keeps only the selector's fields and refuses names that are not one folder", () => {
  assert.deepEqual(parseModelSelector({ kind: "adapter", defense: "mart", strategy: "x" }, "m"), { kind: "adapter", defense: "mart" });
  for (const bad of [null, [], "base", { kind: "adapter", defense: "a/b" }, { kind: "merged", strategy: ".." }, { kind: "merged", strategy: 3 }, {}]) {
    const r = parseModelSelector(bad, "model");
    assert.ok("problem" in r && r.problem.startsWith("model"), JSON.stringify(bad));
  }
});
