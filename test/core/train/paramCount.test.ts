import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { selectTestBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/config/validate";
import { validateConfig as validateVit } from "../../../src/core/model/config";
import { initParams, disposeParams } from "../../../src/core/model/params";
import { buildTunable } from "../../../src/core/train/build";
import { countTrainableParams } from "../../../src/core/train/paramCount";

const vit = validateVit({ imgSize: 8, patchSize: 4, inChans: 3, numClasses: 3, dim: 8, depth: 2, heads: 2, mlpDim: 16, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });

describe("countTrainableParams", () => {
  before(async () => {
    await selectTestBackend();
  });

  for (const method of ["hyperat", "lora-at", "full-at"] as const) {
    for (const targets of [["qkv", "proj", "fc1", "fc2"], ["qkv"], ["fc1", "fc2"]]) {
      test(`${method} with targets ${targets.join("+")} matches the tunable's variables`, () => {
        const cfg = validateConfig({ method, lora: { targets, rank: 3, alpha: 6 }, hypernet: { embedDim: 4, hiddenDim: 5, latentDim: 6 } });
        const params = initParams(vit, 0);
        const tun = buildTunable(cfg, vit, params);
        const actual = Object.values(tun.vars).reduce((a, v) => a + v.size, 0);
        const counted = countTrainableParams(cfg, vit)!;
        assert.equal(counted.trainable, actual);
        assert.equal(counted.backbone, Object.values(params).reduce((a, t) => a + t.size, 0));
        tun.dispose();
        disposeParams(params);
      });
    }
  }

  test("hand-computed lora-at count: r·(d_in + d_out) per module plus the head", () => {
    const cfg = validateConfig({ method: "lora-at", lora: { targets: ["proj"], rank: 2, alpha: 2 } });
    // proj is 8→8: 2·(8+8)=32 per block, 2 blocks; head 8·3+3 = 27.
    assert.equal(countTrainableParams(cfg, vit)!.trainable, 2 * 32 + 27);
  });

  test("model files without a loaded config give undefined instead of a guess", () => {
    const cfg = validateConfig({ model: { path: "x.safetensors" } });
    assert.equal(countTrainableParams(cfg), undefined);
  });
});
