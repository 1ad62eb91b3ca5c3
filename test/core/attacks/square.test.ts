import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Rng } from "../../../src/core/rng";
import { square, squareFraction } from "../../../src/core/attacks/square";
import { pgd } from "../../../src/core/attacks/pgd";
import { lossAndGrad } from "../../../src/core/attacks/gradient";
import { crossEntropy } from "../../../src/core/attacks/losses";
import { EPS, FLOAT_TOL, ToyModel, fooledMask, inBall, linearModel, predictedLabels, quantizedModel, randomImages } from "./toyModels";

describe("square", () => {
  let x: tf.Tensor4D;
  let masked: ToyModel;
  let y: tf.Tensor1D;
  before(async () => {
    await selectTestBackend();
    x = randomImages(24, 5);
    masked = quantizedModel(linearModel(10), 4);
    y = predictedLabels(masked.model, x);
  });
  after(() => {
    masked.dispose();
    tf.dispose([x, y]);
  });

  test("p schedule: p_init until 10/10000 of the budget, then halvings at the paper's breakpoints", async () => {
    assert.equal(squareFraction(0, 10000, 0.8), 0.8);
    assert.equal(squareFraction(10, 10000, 0.8), 0.8);
    assert.equal(squareFraction(11, 10000, 0.8), 0.4);
    assert.equal(squareFraction(300, 10000, 0.8), 0.1);
    assert.equal(squareFraction(9000, 10000, 0.8), 0.8 / 512);
    assert.equal(squareFraction(30, 1000, 0.8), 0.8 / 8); // rescaled: 30/1000 → 300/10000
  });

  test("finds adversarials where gradients are masked and PGD does not", async () => {
    const g = lossAndGrad(masked.model, x, y, crossEntropy);
    assert.equal(tf.tidy(() => tf.max(tf.abs(g.grad)).dataSync()[0]), 0, "the quantizer should zero the input gradient");
    tf.dispose([g.logits, g.loss, g.grad]);

    const p = await pgd(masked.model, x, y, { eps: EPS, steps: 20, randomStart: false });
    const s = await square(masked.model, x, y, { eps: EPS, queries: 300, rng: Rng.fromSeed(1) });
    const byPgd = fooledMask(masked.model, p, y).filter(Boolean).length;
    const bySquare = fooledMask(masked.model, s, y).filter(Boolean).length;
    assert.equal(byPgd, 0, "PGD cannot move without a gradient");
    assert.ok(bySquare >= 8, `Square fooled only ${bySquare}/24`);
    const { linf, lo, hi } = inBall(s, x);
    assert.ok(linf <= EPS + FLOAT_TOL && lo >= 0 && hi <= 1, `linf ${linf}, range [${lo}, ${hi}]`);
    tf.dispose([p, s]);
  });

  test("deterministic per seed; stops querying when all are fooled; no leaks", async () => {
    const before = tf.memory().numTensors;
    const a = await square(masked.model, x, y, { eps: EPS, queries: 50, rng: Rng.fromSeed(3) });
    const b = await square(masked.model, x, y, { eps: EPS, queries: 50, rng: Rng.fromSeed(3) });
    assert.deepEqual(a.dataSync(), b.dataSync());
    let calls = 0;
    const counted = (xx: tf.Tensor4D) => {
      calls++;
      return masked.model(xx);
    };
    const c = await square(counted, x, y, { eps: 0.5, queries: 1000, rng: Rng.fromSeed(3) });
    assert.ok(calls < 100, `${calls} model calls: should stop once every sample is fooled`);
    tf.dispose([a, b, c]);
    assert.equal(tf.memory().numTensors, before);
  });
});
