import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { pretrainClean } from "../../../src/core/train/pretrain";
import { initParams, disposeParams, paramShapes } from "../../../src/core/model/params";
import { tinyConfig, randomImages, snapshot, sameBits } from "../model/tinyVit";

const vit = tinyConfig();

/** A learnable toy task: the label is the brightest colour channel of the image. */
function brightestChannel(seed: number, n = 8): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const base = randomImages(vit, n, seed);
    const tint = tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i + seed) % 3), "int32"), 3).reshape([n, 1, 1, 3]);
    const x = tf.clipByValue(tf.add(tf.mul(base, 0.5), tf.mul(tint, 0.5)), 0, 1) as tf.Tensor4D;
    return { x, y: tf.argMax(tf.mean(x, [1, 2]), 1).toInt() as tf.Tensor1D };
  });
}

describe("clean pretraining", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("lowers the loss, returns fresh tensors with every name and shape, leaves init untouched, leaks nothing", async () => {
    const init = initParams(vit, 1);
    const original = snapshot(init);
    const losses: number[] = [];
    let i = 0;
    const before = tf.memory().numTensors;
    const out = await pretrainClean({ vit, init, steps: 25, lr: 0.01, nextBatch: () => brightestChannel(i++ % 4), onStep: (s, l) => losses.push(l) });
    assert.equal(tf.memory().numTensors, before + Object.keys(init).length, "only the returned parameters remain");
    assert.equal(losses.length, 25);
    const first = (losses[0] + losses[1] + losses[2]) / 3;
    const last = (losses[22] + losses[23] + losses[24]) / 3;
    assert.ok(last < first * 0.8, `loss ${first} → ${last}`);
    for (const [name, shape] of paramShapes(vit)) {
      assert.deepEqual(out[name].shape, shape, name);
      assert.notEqual(out[name], init[name], `${name} is the init tensor itself`);
    }
    for (const [k, v] of Object.entries(snapshot(init))) assert.ok(sameBits(v, original[k]), `init ${k} was modified`);
    assert.ok(!sameBits(snapshot(out)["head.weight"], original["head.weight"]), "head did not train");
    disposeParams(out);
    disposeParams(init);
  });

  test("a non-finite loss stops with an error naming the step, without leaking", async () => {
    const init = initParams(vit, 2);
    let i = 0;
    const before = tf.memory().numTensors;
    const nextBatch = () => {
      const b = brightestChannel(i);
      if (i++ < 2) return b;
      const x = tf.fill(b.x.shape, NaN) as tf.Tensor4D;
      b.x.dispose();
      return { x, y: b.y };
    };
    await assert.rejects(() => pretrainClean({ vit, init, steps: 5, lr: 0.01, nextBatch }), /clean pretraining diverged at step 3 \(loss NaN\); lower pretrain\.lr/);
    assert.equal(tf.memory().numTensors, before);
    disposeParams(init);
  });
});
