import * as tf from "@tensorflow/tfjs";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { selectBackend } from "../../../src/core/backend/select";
import { pretrainClean } from "../../../src/core/train/pretrain";
import { disposeParams } from "../../../src/core/model/params";
import { pretrainCleanParallel } from "../../../src/daemon/parallel/pretrainParallel";
import { tinyConfig, randomParams, randomImages, randomLabels, snapshot, maxAbsDiff } from "../../core/model/tinyVit";

const vit = tinyConfig();

describe("data-parallel clean pretraining", () => {
  before(async () => {
    await selectBackend("cpu");
  });

  test("2 workers give pretrainClean's weights and losses after 3 steps; nothing leaks", async () => {
    const init = randomParams(vit, 1, 0.3);
    const batches = (i: number) => ({ x: randomImages(vit, 5, 50 + (i % 3)), y: randomLabels(5, vit.numClasses, 60 + (i % 3)) });
    const args = (losses: number[]) => {
      let i = 0;
      return { vit, init, steps: 3, lr: 0.003, nextBatch: () => batches(i++), onStep: (_s: number, l: number) => losses.push(l) };
    };
    const l1: number[] = [];
    const l2: number[] = [];
    const one = await pretrainClean(args(l1));
    const n0 = tf.memory().numTensors;
    const two = await pretrainCleanParallel(args(l2), { workers: 2, backend: "cpu" });
    assert.equal(tf.memory().numTensors, n0 + Object.keys(init).length, "only the returned parameters remain");
    l1.forEach((l, i) => assert.ok(Math.abs(l2[i] - l) <= 1e-5 * l, `step ${i + 1} loss ${l2[i]} vs ${l}`));
    const a = snapshot(two);
    const b = snapshot(one);
    const start = snapshot(init);
    for (const n of Object.keys(b)) {
      // Adam divides by √v: where the exact gradient is 0 (the key bias of qkv — softmax is
      // shift-invariant) float noise becomes a full-size step whose sign depends on summation
      // order, so that slice gets 3 steps × lr as its bound; q and v get the 1e-5 bound.
      const scale = Math.max(1e-6, ...Array.from(b[n], Math.abs));
      const D = vit.dim;
      b[n].forEach((v, i) => {
        const keyBias = n.endsWith("qkv.bias") && i >= D && i < 2 * D;
        const tol = keyBias ? 3 * 0.003 : 1e-5 * scale;
        assert.ok(Math.abs(a[n][i] - v) <= tol, `"${n}"[${i}] differs by ${Math.abs(a[n][i] - v)}`);
      });
    }
    assert.ok(maxAbsDiff(b["head.weight"], start["head.weight"]) > 1e-4, "training moved the weights");
    disposeParams(one);
    disposeParams(two);
    disposeParams(init);
  });

  test("a NaN batch stops it with the divergence error and the helpers are closed", async () => {
    const init = randomParams(vit, 1, 0.3);
    const nextBatch = () => ({ x: tf.fill([4, 8, 8, 3], NaN) as tf.Tensor4D, y: randomLabels(4, vit.numClasses, 1) });
    const n0 = tf.memory().numTensors;
    await assert.rejects(pretrainCleanParallel({ vit, init, steps: 2, lr: 0.01, nextBatch }, { workers: 2, backend: "cpu" }), /clean pretraining diverged at step 1/);
    assert.equal(tf.memory().numTensors, n0);
    disposeParams(init);
  });
});
