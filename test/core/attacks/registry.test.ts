import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Rng } from "../../../src/core/rng";
import { resolveAttack } from "../../../src/core/attacks/registry";
import { crossEntropy, marginLoss } from "../../../src/core/attacks/losses";
import { EPS, FLOAT_TOL, ToyModel, fooledMask, inBall, mlpModel, predictedLabels, randomImages } from "./toyModels";

// Small budgets keep the table fast; the guarantees do not depend on the budget.
const NAMES = ["fgsm", "pgd-5", "cw-5", "apgd-ce-5", "apgd-dlr-5", "apgd-t-3", "fab-t-3", "square-30"];

describe("every attack (through the registry)", () => {
  let toy: ToyModel;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  let wrong: tf.Tensor1D;
  before(async () => {
    await selectTestBackend();
    toy = mlpModel(10);
    x = randomImages(8, 11);
    y = predictedLabels(toy.model, x);
    // Half the labels wrong: those clean points are already misclassified.
    wrong = tf.tidy(() => tf.where(tf.less(tf.range(0, 8), 4), tf.cast(tf.mod(tf.add(y, 1), 10), "int32"), y) as tf.Tensor1D);
  });
  after(() => {
    toy.dispose();
    tf.dispose([x, y, wrong]);
  });

  for (const name of NAMES) {
    test(`${name}: inside the eps ball and [0,1], never undoes a misclassification, seeded, no leaks`, async () => {
      const attack = resolveAttack(name);
      const before = tf.memory().numTensors;
      const a = await attack.run(toy.model, x, wrong, { eps: EPS, rng: Rng.fromSeed(5, name) });
      const b = await attack.run(toy.model, x, wrong, { eps: EPS, rng: Rng.fromSeed(5, name) });
      const { linf, lo, hi } = inBall(a, x);
      assert.ok(linf <= EPS + FLOAT_TOL, `linf ${linf} > eps`);
      assert.ok(lo >= 0 && hi <= 1, `range [${lo}, ${hi}]`);
      assert.deepEqual(a.dataSync(), b.dataSync(), "same seed must give the same result");
      const fooled = fooledMask(toy.model, a, wrong);
      for (let i = 0; i < 4; i++) assert.ok(fooled[i], `sample ${i} was misclassified and must stay so`);
      tf.dispose([a, b]);
      assert.equal(tf.memory().numTensors, before);
    });
  }

  test("FGSM and CW raise their losses on every correctly classified sample", async () => {
    for (const [name, loss] of [["fgsm", crossEntropy], ["cw-10", marginLoss]] as const) {
      const xAdv = await resolveAttack(name).run(toy.model, x, y, { eps: EPS, rng: Rng.fromSeed(1) });
      const [l0, l1] = tf.tidy(() => [loss(toy.model(x), y).arraySync(), loss(toy.model(xAdv), y).arraySync()]) as number[][];
      l0.forEach((v, i) => assert.ok(l1[i] > v, `${name} sample ${i}: ${l1[i]} ≤ ${v}`));
      xAdv.dispose();
    }
  });

  test("names: defaults, budgets in the name, gradient-free flag, helpful errors", async () => {
    assert.equal(resolveAttack("apgd-ce").settings.steps, 100);
    assert.equal(resolveAttack("apgd-t").settings.targets, 9);
    assert.equal(resolveAttack("square").settings.queries, 5000);
    assert.deepEqual(resolveAttack("fab-t").settings, { steps: 100, targets: 9, restarts: 1, alphaMax: 0.1, eta: 1.05, beta: 0.9 });
    assert.equal(resolveAttack("fab-t-20").settings.steps, 20);
    assert.equal(resolveAttack("PGD-20").name, "pgd-20");
    assert.equal(resolveAttack("cw-20").settings.loss, "margin");
    assert.equal(resolveAttack("square").usesGradients, false);
    assert.equal(resolveAttack("fgsm").usesGradients, true);
    assert.throws(() => resolveAttack("deepfool"), /unknown attack "deepfool"; known: fgsm, pgd-<steps>, cw-<steps>/);
    assert.throws(() => resolveAttack("pgd"), /unknown attack "pgd"/);
    assert.throws(() => resolveAttack("pgd-0"), /budget must be an integer in \[1, 1000000\], got "0"/);
  });
});
