import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { fitEvaluationBatch } from "../../../src/core/evaluate/batchMemory";
import { planAttackBatch, backboneScalars, targetScalars, type PlanConfig } from "../../../src/core/memory/plan";
import { memoryLimit, WASM_PLAN_BYTES, type MemoryLimit } from "../../../src/core/memory/limits";
import { presetConfig } from "../../../src/core/model/config";

describe("evaluation attack batch", () => {
  const vit = presetConfig("vit-micro", { imgSize: 32, patchSize: 4, numClasses: 10 });
  const wasm = memoryLimit("wasm", { freeBytes: 2 ** 40, totalBytes: 2 ** 40 });
  // per image: the tape, depth 4 · (66·65·64 + 6·65·128 + 5·4·65²) + 22·65·64 = 1727440 floats
  // (docs/memory.md), plus 4 image buffers of 32·32·3 floats: 1739728 floats.
  const perImage = 4 * (1727440 + 4 * 32 * 32 * 3);
  const fixed = 4 * backboneScalars(vit);
  const fitting = Math.floor((WASM_PLAN_BYTES - fixed) / perImage);

  test("hand-computed estimate for a stand-alone vit-micro at 32px/4 (65 tokens)", () => {
    const at = (b: number) => planAttackBatch(vit, undefined, b, { backend: "cpu", bytes: 2 ** 50, source: "test" }, "evaluation").requested.bytes;
    assert.equal(at(1), fixed + perImage);
    assert.equal(at(10), fixed + 10 * perImage);
  });

  test("a run's evaluation also counts the folded copy of the adapted weights", () => {
    const c: PlanConfig = {
      method: "hyperat",
      defenses: ["pgd-at", "trades"],
      lora: { targets: ["qkv", "proj"], rank: 4 },
      hypernet: { embedDim: 8, hiddenDim: 16, latentDim: 8 },
      attackSteps: 2,
      batchSize: 8,
      microBatchSize: "auto",
      evalBatchSize: 8,
      merge: { strategy: "adaptive", batchSize: 8 },
    };
    const alone = planAttackBatch(vit, undefined, 4, wasm, "evaluation").requested.bytes;
    const run = planAttackBatch(vit, c, 4, wasm, "evaluation").requested.bytes;
    // qkv 64×192 and proj 64×64 in each of 4 blocks
    assert.equal(targetScalars(vit, c.lora.targets), 4 * (64 * 192 + 64 * 64));
    assert.equal(run - alone, 4 * targetScalars(vit, c.lora.targets));
  });

  test("a batch that fits runs as asked, with no note", () => {
    assert.deepEqual(fitEvaluationBatch(vit, undefined, 64, wasm, "--batch"), { batch: 64, bytes: fixed + 64 * perImage });
  });

  test("eval --batch 20000 runs at the largest batch that fits, and says so", () => {
    const f = fitEvaluationBatch(vit, undefined, 20000, wasm, "--batch");
    assert.equal(f.batch, fitting);
    assert.ok(fixed + f.batch * perImage <= WASM_PLAN_BYTES && fixed + (f.batch + 1) * perImage > WASM_PLAN_BYTES);
    assert.match(fitEvaluationBatch(vit, undefined, 600, wasm, "--batch", 20000).note!, /^--batch 20000 \(600 samples\) does not fit \(one attack step needs about 3\.89 GiB/);
    assert.match(f.note!, new RegExp(`^--batch 20000 does not fit \\(one attack step needs about 129\\.62 GiB, over the limit of 3\\.20 GiB \\(wasm heap .*\\) on wasm\\)\\); running at ${fitting} `));
  });

  test("not even one image fits: refused with the setting, the estimate, the limit and the fix", () => {
    const tiny: MemoryLimit = { backend: "cpu", bytes: fixed, source: "75 % of free RAM" };
    assert.throws(
      () => fitEvaluationBatch(vit, undefined, 8, tiny, "evaluation.batchSize"),
      /^Error: evaluation\.batchSize 8: one attack step needs about 0\.01 GiB even at 1 image \(ViT dim 64, depth 4, 65 tokens\), over the limit of 0\.00 GiB \(75 % of free RAM on cpu\): the model itself does not fit; use a smaller model or image size, or another backend$/,
    );
  });

  test("a device whose largest buffer is smaller than one activation: planned down, then refused at 1", () => {
    // The largest activation per image is the attention scores, heads · 65² floats (4 heads here).
    const scores = 4 * vit.heads * 65 * 65;
    const gpu: MemoryLimit = { backend: "webgpu", bytes: 2 ** 40, maxTensorBytes: 10 * scores, source: "test" };
    assert.equal(fitEvaluationBatch(vit, undefined, 64, gpu, "--batch").batch, 10);
    assert.throws(() => fitEvaluationBatch(vit, undefined, 64, { ...gpu, maxTensorBytes: scores - 4 }, "--batch"), /one tensor is over the device's largest buffer/);
  });
});
