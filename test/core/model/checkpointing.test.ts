import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { forward } from "../../../src/core/model/vit";
import { crossEntropy } from "../../../src/core/attacks/losses";
import { LoraTunable, FullTunable, HyperatTunable } from "../../../src/core/train/tunable";
import { disposeParams } from "../../../src/core/model/params";
import { tinyConfig, randomParams, randomImages, randomLabels } from "./tinyVit";

const vit = tinyConfig();

async function arrays(ts: tf.Tensor[]): Promise<Float32Array[]> {
  return Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
}

describe("activation checkpointing (ForwardOptions.checkpoint)", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("input gradient (the attack's) and logits are the same bits with and without", async () => {
    const p = randomParams(vit, 3);
    const x = randomImages(vit, 3, 4);
    const y = randomLabels(3, vit.numClasses, 5);
    const before = tf.memory().numTensors;
    const g = (checkpoint: boolean) => tf.grad((xi: tf.Tensor) => tf.sum(crossEntropy(forward(vit, p, xi as tf.Tensor4D, { checkpoint }), y)))(x);
    const [a, b] = [g(false), g(true)];
    const [la, lb] = tf.tidy(() => [forward(vit, p, x), forward(vit, p, x, { checkpoint: true })]);
    assert.deepEqual(await arrays([b, lb]), await arrays([a, la]));
    tf.dispose([a, b, la, lb]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, y]);
    disposeParams(p);
  });

  for (const method of ["lora-at", "hyperat", "full-at"] as const) {
    test(`${method}: variable gradients are the same with and without, and nothing leaks`, async () => {
      const p = randomParams(vit, 6);
      const tun =
        method === "lora-at"
          ? new LoraTunable(p, vit, { rank: 2, alpha: 4, targets: ["qkv", "proj", "fc1", "fc2"] }, 1)
          : method === "hyperat"
            ? new HyperatTunable(p, vit, { numDefenses: 2, rank: 2, alpha: 4, targets: ["qkv", "fc2"], embedDim: 4, hiddenDim: 8, latentDim: 4 }, 2)
            : new FullTunable(p);
      // LoRA-AT's B and the hypernetwork's B heads start at zero: move them so every path carries gradient.
      for (const v of Object.values(tun.vars)) v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.1, "float32", 9))));
      const x = randomImages(vit, 2, 7);
      const y = randomLabels(2, vit.numClasses, 8);
      const vars = Object.values(tun.vars);
      const before = tf.memory().numTensors;
      const run = (checkpoint: boolean) => tf.variableGrads(() => tf.mean(crossEntropy(forward(vit, tun.params(), x, { lora: tun.lora(method === "hyperat" ? 1 : 0), checkpoint }), y)) as tf.Scalar, vars);
      const a = run(false);
      const b = run(true);
      assert.deepEqual(Object.keys(b.grads).sort(), Object.keys(a.grads).sort());
      const names = Object.keys(a.grads);
      assert.deepEqual(await arrays(names.map((n) => b.grads[n])), await arrays(names.map((n) => a.grads[n])));
      assert.equal((await a.value.data())[0], (await b.value.data())[0]);
      tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, y]);
      tun.dispose();
      disposeParams(p);
    });
  }

  test("the tape's peak shrinks with depth (only block inputs are kept)", async () => {
    const deep = tinyConfig({ depth: 6 });
    const p = randomParams(deep, 3);
    const x = randomImages(deep, 8, 4);
    const y = randomLabels(8, deep.numClasses, 5);
    const peak = async (checkpoint: boolean) => {
      const base = tf.memory().numBytes;
      const info = await tf.profile(() => {
        tf.grad((xi: tf.Tensor) => tf.sum(crossEntropy(forward(deep, p, xi as tf.Tensor4D, { checkpoint }), y)))(x).dispose();
      });
      return info.peakBytes - base;
    };
    const plain = await peak(false);
    const ck = await peak(true);
    assert.ok(ck < 0.5 * plain, `checkpointed peak ${ck} B vs ${plain} B`);
    tf.dispose([x, y]);
    disposeParams(p);
  });
});
