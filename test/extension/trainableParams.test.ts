import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { validateConfig } from "../../src/core/config/validate";
import { countTrainableParams } from "../../src/core/train/paramCount";
import { countTrainable } from "../../src/extension/trainableParams";

const configs: Array<[string, unknown]> = [
  ["hyperat defaults", {}],
  ["hyperat vit-micro, 2 targets, rank 4", { model: { preset: "vit-micro" }, lora: { targets: ["qkv", "fc2"], rank: 4 }, hypernet: { embedDim: 8, hiddenDim: 16, latentDim: 8 } }],
  ["hyperat vit-tiny, 2 defenses, 100 classes", { model: { preset: "vit-tiny", numClasses: 100 }, defenses: [{ name: "pgd-at" }, { name: "mart" }] }],
  ["lora-at vit-small", { method: "lora-at", model: { preset: "vit-small", patchSize: 4 } }],
  ["full-at vit-micro", { method: "full-at", model: { preset: "vit-micro", imgSize: 64 } }],
];

describe("countTrainable (extension) agrees with the core's countTrainableParams", () => {
  for (const [name, raw] of configs) {
    test(name, () => {
      const cfg = validateConfig(raw);
      const core = countTrainableParams(cfg)!;
      const ext = countTrainable(cfg)!;
      assert.equal(ext.trainableParams, core.trainable);
      assert.equal(ext.totalParams, core.backbone);
    });
  }

  test("a model file has no count until it is read", () => {
    assert.equal(countTrainable(validateConfig({ model: { path: "m.safetensors" } })), undefined);
  });
});
