import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { disposeParams, moduleDims, ModuleType, MODULE_TYPES } from "../../../src/core/model/params";
import { forward } from "../../../src/core/model/vit";
import { LoraSet, deltaW, loraScale, targetPaths } from "../../../src/core/model/lora";
import { mergeWeights } from "../../../src/core/train/merge";
import { Rng } from "../../../src/core/rng";
import { tinyConfig, randomParams, randomImages, maxAbsDiff } from "./tinyVit";
import type { ViTConfig } from "../../../src/core/model/config";

/** A LoRA on `targets` with seeded factors; `zeroB` gives the init state (ΔW = 0). */
function randomLora(c: ViTConfig, targets: readonly ModuleType[], rank: number, alpha: number, seed: number, zeroB = false): LoraSet {
  const rng = Rng.fromSeed(seed, "test-lora");
  const factors: LoraSet["factors"] = {};
  for (let l = 0; l < c.depth; l++) {
    for (const m of targets) {
      const [din, dout] = moduleDims(c, m);
      const path = targetPaths(c.depth, [m])[l];
      factors[path] = {
        a: tf.tensor2d(rng.fillNormal(din * rank, 0.5), [din, rank]),
        b: zeroB ? tf.zeros([rank, dout]) : tf.tensor2d(rng.fillNormal(rank * dout, 0.3), [rank, dout]),
      };
    }
  }
  return { scale: alpha / rank, factors };
}

function disposeLora(l: LoraSet): void {
  for (const f of Object.values(l.factors)) tf.dispose([f.a, f.b]);
}

const logits = (c: ViTConfig, p: Record<string, tf.Tensor>, x: tf.Tensor4D, lora?: LoraSet) =>
  tf.tidy(() => Array.from(forward(c, p, x, { lora }).dataSync()));

describe("LoRA", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("targetPaths lists block modules in block order with timm names", () => {
    assert.deepEqual(targetPaths(2, ["qkv", "fc2"]), ["blocks.0.attn.qkv", "blocks.0.mlp.fc2", "blocks.1.attn.qkv", "blocks.1.mlp.fc2"]);
    assert.equal(loraScale({ rank: 4, alpha: 16 }), 4);
  });

  test("deltaW = scale · a · b by hand", () => {
    const d = tf.tidy(() => deltaW({ a: tf.tensor2d([[1], [2]]), b: tf.tensor2d([[3, -1]]) }, 0.5));
    assert.deepEqual(d.shape, [2, 2]);
    assert.deepEqual(Array.from(d.dataSync()), [1.5, -0.5, 3, -1]);
    d.dispose();
  });

  test("B = 0 gives exactly the base model's logits", () => {
    const c = tinyConfig();
    const p = randomParams(c, 1);
    const x = randomImages(c, 2);
    const lora = randomLora(c, MODULE_TYPES, 4, 8, 2, true);
    assert.deepEqual(logits(c, p, x, lora), logits(c, p, x));
    disposeLora(lora);
    x.dispose();
    disposeParams(p);
  });

  const mergeCases: Array<{ name: string; targets: readonly ModuleType[]; rank: number; alpha: number }> = [
    { name: "all four modules, r 4, alpha 8", targets: MODULE_TYPES, rank: 4, alpha: 8 },
    { name: "qkv + fc2, r 1, alpha 3", targets: ["qkv", "fc2"], rank: 1, alpha: 3 },
    { name: "proj only, r 2, alpha 0.5", targets: ["proj"], rank: 2, alpha: 0.5 },
  ];
  for (const mc of mergeCases) {
    test(`merged W0 + (alpha/r)·a·b gives the unmerged LoRA logits: ${mc.name}`, async () => {
      const c = tinyConfig();
      const p = randomParams(c, 3);
      const x = randomImages(c, 3);
      const lora = randomLora(c, mc.targets, mc.rank, mc.alpha, 4);
      assert.equal(lora.scale, mc.alpha / mc.rank);
      const unmerged = logits(c, p, x, lora);
      const base = logits(c, p, x);
      assert.ok(maxAbsDiff(unmerged, base) > 1e-3, "the LoRA must change the logits for this test to mean anything");

      const merged = await mergeWeights(p, { test: lora }, { test: new Array<number>(c.depth).fill(1) });
      const d = maxAbsDiff(logits(c, merged, x), unmerged);
      assert.ok(d <= 1e-5, `merged vs unmerged logits differ by ${d}`);
      // The inputs are untouched (a merge is reversible) and only adapted weights are new tensors.
      assert.deepEqual(logits(c, p, x), base);
      for (const name of Object.keys(p)) {
        const adapted = name.replace(/\.weight$/, "") in lora.factors;
        assert.equal(merged[name] !== p[name], adapted, name);
      }
      for (const path of Object.keys(lora.factors)) merged[`${path}.weight`].dispose();
      disposeLora(lora);
      x.dispose();
      disposeParams(p);
    });
  }

  test("gradients reach every LoRA factor", () => {
    const c = tinyConfig();
    const p = randomParams(c, 1);
    const x = randomImages(c, 2);
    const lora = randomLora(c, ["qkv", "fc1"], 2, 4, 5);
    const fs = Object.values(lora.factors).flatMap((f) => [f.a, f.b]);
    const g = tf.tidy(() => tf.grads((...ts: tf.Tensor[]) => {
      const factors = Object.fromEntries(Object.keys(lora.factors).map((k, i) => [k, { a: ts[2 * i] as tf.Tensor2D, b: ts[2 * i + 1] as tf.Tensor2D }]));
      return tf.sum(forward(c, p, x, { lora: { scale: lora.scale, factors } }));
    })(fs));
    for (const [i, t] of g.entries()) assert.ok(tf.tidy(() => tf.norm(t).dataSync()[0]) > 0, `factor ${i} got a zero gradient`);
    tf.dispose(g);
    disposeLora(lora);
    x.dispose();
    disposeParams(p);
  });

  test("forward with a LoRA does not leak tensors", () => {
    const c = tinyConfig();
    const p = randomParams(c, 1);
    const x = randomImages(c, 2);
    const lora = randomLora(c, MODULE_TYPES, 2, 4, 6);
    logits(c, p, x, lora);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) logits(c, p, x, lora);
    assert.equal(tf.memory().numTensors, before);
    disposeLora(lora);
    x.dispose();
    disposeParams(p);
  });
});
