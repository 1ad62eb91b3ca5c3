import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { evaluate, EvalData } from "../../../src/core/evaluate/evaluator";
import { Rng } from "../../../src/core/rng";
import { D, H, W, C, ToyModel, linearModel, mlpModel, quantizedModel } from "../attacks/toyModels";

/** n images labelled by the toy model itself, so clean accuracy is 100%. */
function selfLabelled(toy: ToyModel, n: number, seed: number): EvalData {
  const images = Rng.fromSeed(seed, "eval-images").fillUniform(n * D, 0, 1);
  const labels = tf.tidy(() => Int32Array.from(tf.argMax(toy.model(tf.tensor4d(images, [n, H, W, C])), 1).dataSync()));
  return { images, labels, n, height: H, width: W };
}

describe("evaluator with real attacks on toy models", () => {
  let toy: ToyModel;
  let data: EvalData;
  before(async () => {
    await selectTestBackend();
    toy = mlpModel(10);
    data = selfLabelled(toy, 12, 1);
  });
  after(() => toy.dispose());

  test("quick suite: deterministic per seed, robust accuracy falls with eps, no tensor leaks", async () => {
    const before = tf.memory().numTensors;
    const run = (seed: number, eps: string) => evaluate(toy.model, data, { attacks: ["pgd-5", "cw-5"], eps, seed, batchSize: 5 });
    const a = await run(1, "2/255");
    const b = await run(1, "2/255");
    const strong = await run(1, "32/255");
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(a.robustAccuracy, b.robustAccuracy);
    assert.equal(a.cleanAccuracy, 1);
    assert.ok(a.robustAccuracy["cw-5"] <= a.robustAccuracy["pgd-5"], "cumulative numbers never increase");
    assert.ok(strong.worstCaseRobustAccuracy < a.worstCaseRobustAccuracy || a.worstCaseRobustAccuracy === 0);
    assert.ok(strong.worstCaseRobustAccuracy <= 0.25, `an undefended toy should break at 32/255, got ${strong.worstCaseRobustAccuracy}`);
    assert.deepEqual(a.warnings, []);
  });

  test("masked gradients: zero-gradient pre-flight and Square-beats-PGD warnings", async () => {
    const masked = quantizedModel(linearModel(10), 4);
    const d = selfLabelled(masked, 16, 2);
    const r = await evaluate(masked.model, d, { attacks: ["pgd-10", "square-200"], eps: "8/255", seed: 1 });
    assert.ok(r.worstCaseRobustAccuracy < r.robustAccuracy["pgd-10"], "Square should break points PGD could not");
    assert.ok(r.warnings.some((w) => /input gradient of the loss is exactly zero on 16 of 16/.test(w)), r.warnings.join("\n"));
    assert.ok(r.warnings.some((w) => /square-200 \(gradient-free\) broke \d+ of \d+ samples that survived pgd-10/.test(w)), r.warnings.join("\n"));
    masked.dispose();
  });

  test("probability outputs and randomized models are flagged", async () => {
    const probs = (x: tf.Tensor4D) => tf.tidy(() => tf.softmax(toy.model(x)) as tf.Tensor2D);
    const r1 = await evaluate(probs, data, { attacks: ["fgsm"], eps: "8/255" });
    assert.ok(r1.warnings.some((w) => /look like probabilities/.test(w)), r1.warnings.join("\n"));
    let calls = 0;
    const noisy = (x: tf.Tensor4D) => tf.tidy(() => tf.add(toy.model(x), ++calls * 1e-3) as tf.Tensor2D);
    const r2 = await evaluate(noisy, data, { attacks: ["fgsm"], eps: "8/255" });
    assert.ok(r2.warnings.some((w) => /model is randomized/.test(w)), r2.warnings.join("\n"));
  });
});
