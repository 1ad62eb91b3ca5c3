import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Rng } from "../../../src/core/rng";
import { pgd } from "../../../src/core/attacks/pgd";
import { pgdTrades } from "../../../src/core/attacks/pgdTrades";
import { crossEntropy, klDivergence, marginLoss } from "../../../src/core/attacks/losses";
import { EPS, FLOAT_TOL, ToyModel, inBall, mlpModel, predictedLabels, randomImages, fooledMask } from "./toyModels";

function perSample(fn: () => tf.Tensor): number[] {
  return tf.tidy(() => Array.from(fn().dataSync()));
}

describe("pgd", () => {
  let toy: ToyModel;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  before(async () => {
    await selectTestBackend();
    toy = mlpModel(5);
    x = randomImages(8);
    y = predictedLabels(toy.model, x);
  });
  after(() => {
    toy.dispose();
    tf.dispose([x, y]);
  });

  for (const loss of ["ce", "margin"] as const) {
    test(`${loss}: stays in the eps ball and [0,1], and never lowers the loss`, async () => {
      const xAdv = await pgd(toy.model, x, y, { eps: EPS, steps: 10, loss, rng: Rng.fromSeed(1, "a") });
      const { linf, lo, hi } = inBall(xAdv, x);
      assert.ok(linf <= EPS + FLOAT_TOL, `linf ${linf} > eps`);
      assert.ok(lo >= 0 && hi <= 1, `range [${lo}, ${hi}]`);
      const f = loss === "ce" ? crossEntropy : marginLoss;
      const clean = perSample(() => f(toy.model(x), y));
      const adv = perSample(() => f(toy.model(xAdv), y));
      const fooled = fooledMask(toy.model, xAdv, y);
      for (let i = 0; i < clean.length; i++) {
        assert.ok(fooled[i] || adv[i] >= clean[i], `sample ${i}: loss ${adv[i]} < clean ${clean[i]}`);
      }
      assert.ok(adv.reduce((a, b) => a + b) > clean.reduce((a, b) => a + b) + 1e-3, "PGD should raise the loss");
      xAdv.dispose();
    });
  }

  test("breaks most samples of an undefended model at a large eps", async () => {
    const xAdv = await pgd(toy.model, x, y, { eps: 0.3, steps: 20, rng: Rng.fromSeed(1, "a") });
    const fooled = fooledMask(toy.model, xAdv, y).filter(Boolean).length;
    assert.ok(fooled >= 6, `only ${fooled}/8 fooled`);
    xAdv.dispose();
  });

  test("same seed ⇒ same result; different seed ⇒ different random start", async () => {
    const run = (seed: number) => pgd(toy.model, x, y, { eps: EPS, steps: 3, keep: "last", rng: Rng.fromSeed(seed, "a") });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.notDeepEqual(a.dataSync(), c.dataSync());
    tf.dispose([a, b, c]);
  });

  test("already-misclassified clean points are never made less adversarial", async () => {
    // Wrong labels everywhere: every clean point is misclassified, so the result must stay so.
    const wrong = tf.tidy(() => tf.cast(tf.mod(tf.add(y, 1), 5), "int32") as tf.Tensor1D);
    const xAdv = await pgd(toy.model, x, wrong, { eps: EPS, steps: 5, rng: Rng.fromSeed(2, "a") });
    assert.ok(fooledMask(toy.model, xAdv, wrong).every(Boolean));
    tf.dispose([wrong, xAdv]);
  });

  test("zero steps without random start returns x itself", async () => {
    const xAdv = await pgd(toy.model, x, y, { eps: EPS, steps: 0, randomStart: false });
    assert.deepEqual(xAdv.dataSync(), x.dataSync());
    xAdv.dispose();
  });

  test("restarts merge by (misclassified, loss) and stay in the ball", async () => {
    const one = await pgd(toy.model, x, y, { eps: EPS, steps: 5, restarts: 1, rng: Rng.fromSeed(3, "a") });
    const three = await pgd(toy.model, x, y, { eps: EPS, steps: 5, restarts: 3, rng: Rng.fromSeed(3, "a") });
    // The 3-restart run sees the 1-restart run's iterates first, so its loss is at least as high.
    const l1 = perSample(() => crossEntropy(toy.model(one), y));
    const l3 = perSample(() => crossEntropy(toy.model(three), y));
    const f1 = fooledMask(toy.model, one, y);
    const f3 = fooledMask(toy.model, three, y);
    for (let i = 0; i < l1.length; i++) assert.ok((f3[i] && !f1[i]) || l3[i] >= l1[i] - 1e-6, `sample ${i}`);
    assert.ok(inBall(three, x).linf <= EPS + FLOAT_TOL);
    tf.dispose([one, three]);
  });

  test("custom loss: maximizing −CE keeps the true class (training-code hook)", async () => {
    const xAdv = await pgd(toy.model, x, y, {
      eps: EPS,
      steps: 5,
      loss: (l, yy) => tf.neg(crossEntropy(l, yy)),
      keep: "last",
      rng: Rng.fromSeed(4, "a"),
    });
    assert.ok(fooledMask(toy.model, xAdv, y).every((f) => !f));
    xAdv.dispose();
  });

  test("errors name the problem", async () => {
    await assert.rejects(() => pgd(toy.model, x, y, { eps: EPS }), /randomStart needs opts.rng/);
    await assert.rejects(() => pgd(toy.model, x, y, { eps: 0, rng: Rng.fromSeed(1) }), /eps must be in \(0, 1\]/);
    const bad = tf.tensor1d([0, 1], "int32");
    await assert.rejects(() => pgd(toy.model, x, bad, { eps: EPS, rng: Rng.fromSeed(1) }), /y must be \[8\] labels/);
    bad.dispose();
  });

  test("does not leak tensors (best, last, restarts, early stop)", async () => {
    const before = tf.memory().numTensors;
    for (const o of [
      { keep: "best" as const },
      { keep: "last" as const },
      { keep: "last" as const, restarts: 2 },
      { keep: "best" as const, restarts: 2, stopWhenAllFooled: true, eps: 0.5 },
    ]) {
      const r = await pgd(toy.model, x, y, { eps: EPS, steps: 3, rng: Rng.fromSeed(1), ...o });
      r.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
  });
});

describe("pgdTrades", () => {
  let toy: ToyModel;
  let x: tf.Tensor4D;
  before(async () => {
    await selectTestBackend();
    toy = mlpModel(5);
    x = randomImages(6, 9);
  });
  after(() => {
    toy.dispose();
    x.dispose();
  });

  test("raises KL(p(x)‖p(x')) well above the 0.001·N start, inside the ball", () => {
    const start = pgdTrades(toy.model, x, { eps: EPS, steps: 0, rng: Rng.fromSeed(5, "t") });
    const xAdv = pgdTrades(toy.model, x, { eps: EPS, steps: 10, rng: Rng.fromSeed(5, "t") });
    const kl = (xx: tf.Tensor4D) => perSample(() => klDivergence(toy.model(x), toy.model(xx)));
    const k0 = kl(start);
    const k1 = kl(xAdv);
    assert.ok(inBall(start, x).linf <= 0.01, "start is a tiny perturbation");
    for (let i = 0; i < k0.length; i++) assert.ok(k1[i] > k0[i], `sample ${i}: KL ${k1[i]} ≤ ${k0[i]}`);
    const { linf, lo, hi } = inBall(xAdv, x);
    assert.ok(linf <= EPS + FLOAT_TOL && lo >= 0 && hi <= 1);
    tf.dispose([start, xAdv]);
  });

  test("deterministic per seed and does not leak", async () => {
    const before = tf.memory().numTensors;
    const a = pgdTrades(toy.model, x, { eps: EPS, steps: 3, rng: Rng.fromSeed(6, "t") });
    const b = pgdTrades(toy.model, x, { eps: EPS, steps: 3, rng: Rng.fromSeed(6, "t") });
    assert.deepEqual(a.dataSync(), b.dataSync());
    tf.dispose([a, b]);
    assert.equal(tf.memory().numTensors, before);
  });
});
