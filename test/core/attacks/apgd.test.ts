import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Rng } from "../../../src/core/rng";
import { pgd } from "../../../src/core/attacks/pgd";
import { apgd, apgdSchedule, apgdT } from "../../../src/core/attacks/apgd";
import { crossEntropy } from "../../../src/core/attacks/losses";
import { EPS, FLOAT_TOL, ToyModel, fooledMask, inBall, linearModel, predictedLabels, randomImages, sineModel } from "./toyModels";

const meanCe = (model: ToyModel["model"], x: tf.Tensor4D, y: tf.Tensor1D) =>
  tf.tidy(() => tf.mean(crossEntropy(model(x), y)).dataSync()[0]);

describe("apgd", () => {
  let x: tf.Tensor4D;
  before(async () => {
    await selectTestBackend();
    x = randomImages(16, 5);
  });
  after(() => x.dispose());

  test("checkpoint schedule matches autopgd_base.py for N_iter = 100 and 10", async () => {
    assert.deepEqual(apgdSchedule(100), { first: 22, min: 6, decrease: 3 });
    assert.deepEqual(apgdSchedule(10), { first: 2, min: 1, decrease: 1 });
  });

  test("APGD-CE ≥ PGD-CE at equal iterations on an oscillating landscape", async () => {
    // sin features make the CE landscape wavy: PGD's fixed eps/4 step overshoots, APGD halves it.
    const toy = sineModel(10, 4);
    const y = predictedLabels(toy.model, x);
    for (const seed of [1, 2, 3]) {
      const p = await pgd(toy.model, x, y, { eps: EPS, steps: 20, rng: Rng.fromSeed(seed) });
      const a = await apgd(toy.model, x, y, { eps: EPS, steps: 20, rng: Rng.fromSeed(seed) });
      const [lp, la] = [meanCe(toy.model, p, y), meanCe(toy.model, a, y)];
      assert.ok(la > lp, `seed ${seed}: APGD CE ${la} < PGD CE ${lp}`);
      tf.dispose([p, a]);
    }
    toy.dispose();
    y.dispose();
  });

  test("APGD-T over 9 targets breaks at least as many samples as one target", async () => {
    const toy = linearModel(10);
    const y = predictedLabels(toy.model, x);
    const one = await apgdT(toy.model, x, y, { eps: 0.03, steps: 10, targets: 1, rng: Rng.fromSeed(2) });
    const nine = await apgdT(toy.model, x, y, { eps: 0.03, steps: 10, targets: 9, rng: Rng.fromSeed(2) });
    const count = (xa: tf.Tensor4D) => fooledMask(toy.model, xa, y).filter(Boolean).length;
    assert.ok(count(nine) >= count(one), `${count(nine)} < ${count(one)}`);
    assert.ok(count(one) > 0);
    tf.dispose([one, nine, y]);
    toy.dispose();
  });

  test("clean-misclassified points are returned unchanged", async () => {
    const toy = linearModel(10);
    const wrong = tf.tidy(() => tf.cast(tf.mod(tf.add(predictedLabels(toy.model, x), 1), 10), "int32") as tf.Tensor1D);
    for (const r of [
      await apgd(toy.model, x, wrong, { eps: EPS, steps: 5, rng: Rng.fromSeed(1) }),
      await apgdT(toy.model, x, wrong, { eps: EPS, steps: 5, rng: Rng.fromSeed(1) }),
    ]) {
      assert.deepEqual(r.dataSync(), x.dataSync());
      r.dispose();
    }
    wrong.dispose();
    toy.dispose();
  });

  test("deterministic per seed, in the ball, and no tensor leaks", async () => {
    const toy = sineModel(10, 2);
    const y = predictedLabels(toy.model, x);
    const before = tf.memory().numTensors;
    const a = await apgd(toy.model, x, y, { eps: EPS, steps: 8, loss: "dlr", restarts: 2, rng: Rng.fromSeed(4) });
    const b = await apgd(toy.model, x, y, { eps: EPS, steps: 8, loss: "dlr", restarts: 2, rng: Rng.fromSeed(4) });
    const t = await apgdT(toy.model, x, y, { eps: EPS, steps: 5, targets: 3, rng: Rng.fromSeed(4), stopWhenAllFooled: true });
    assert.deepEqual(a.dataSync(), b.dataSync());
    for (const r of [a, t]) {
      const { linf, lo, hi } = inBall(r, x);
      assert.ok(linf <= EPS + FLOAT_TOL && lo >= 0 && hi <= 1, `linf ${linf}, range [${lo}, ${hi}]`);
    }
    tf.dispose([a, b, t]);
    assert.equal(tf.memory().numTensors, before);
    toy.dispose();
    y.dispose();
  });
});
