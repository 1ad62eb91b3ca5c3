// A report must not depend on evaluation.batchSize: evaluation plans the batch down when the
// configured one does not fit (docs/memory.md "Final evaluation"), so every attack keys its
// random draws per sample (src/core/attacks/attackRng.ts) and decides per sample.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { evaluate, EvalData, EvalResult } from "../../../src/core/evaluate/evaluator";
import { SampleStreams } from "../../../src/core/attacks/attackRng";
import { Rng } from "../../../src/core/rng";
import { forward } from "../../../src/core/model/vit";
import { disposeParams } from "../../../src/core/model/params";
import { D, H, W, ToyModel, mlpModel } from "../attacks/toyModels";
import { tinyConfig, randomParams } from "../model/tinyVit";
import type { Classifier } from "../../../src/core/attacks/types";

function selfLabelled(model: Classifier, n: number, d: number, h: number, w: number, seed: number): EvalData {
  const images = Rng.fromSeed(seed, "batch-independence-images").fillUniform(n * d, 0, 1);
  const labels = tf.tidy(() => Int32Array.from(tf.argMax(model(tf.tensor4d(images, [n, h, w, 3])), 1).dataSync()));
  return { images, labels, n, height: h, width: w };
}

/** The parts of a result that are outcomes (timings and the batch size itself differ by design). */
function outcomes(r: EvalResult) {
  return {
    clean: r.cleanAccuracy,
    robust: r.robustAccuracy,
    worst: r.worstCaseRobustAccuracy,
    samples: r.samples,
    broken: r.attacks.map((a) => [a.name, a.attacked, a.broken]),
    examples: r.examples,
  };
}

describe("evaluation does not depend on the batch size", () => {
  let toy: ToyModel;
  let data: EvalData;
  before(async () => {
    await selectTestBackend();
    toy = mlpModel(10);
    data = selfLabelled(toy.model, 16, D, H, W, 3);
  });
  after(() => toy.dispose());

  test("every attack with random draws: batch 8 = batch 4 = batch 3, per sample and bit for bit", async () => {
    // eps where some samples break and some survive each attack, so the survivors' bookkeeping
    // and each attack's own subsets (restarts, targets, Square's active rows) are exercised.
    const attacks = ["pgd-5", "cw-5", "apgd-ce-5", "apgd-t-5", "fab-t-5", "square-60"];
    const run = (batchSize: number) => evaluate(toy.model, data, { attacks, eps: "3/255", seed: 7, batchSize, perSample: true, examples: 16, checks: false });
    const at8 = await run(8);
    const at4 = await run(4);
    const at3 = await run(3);
    assert.ok(at8.worstCaseRobustAccuracy > 0 && at8.worstCaseRobustAccuracy < at8.cleanAccuracy, `eps should break some samples, not all: ${JSON.stringify(at8.robustAccuracy)}`);
    assert.deepEqual(outcomes(at4), outcomes(at8));
    assert.deepEqual(outcomes(at3), outcomes(at8));
    assert.equal(at4.batchSize, 4, "the result records the batch it ran at");
  });

  test("a ViT report at batch B equals the report at B/2, random starts included", async () => {
    const vit = tinyConfig({ numClasses: 4 });
    const params = randomParams(vit, 11);
    try {
      const model: Classifier = (x) => forward(vit, params, x);
      const vitData = selfLabelled(model, 12, vit.imgSize * vit.imgSize * 3, vit.imgSize, vit.imgSize, 5);
      const run = (batchSize: number) => evaluate(model, vitData, { attacks: ["apgd-ce-4", "square-30"], eps: "4/255", seed: 2, batchSize, perSample: true, examples: 12, checks: false });
      const full = await run(12);
      const half = await run(6);
      assert.deepEqual(outcomes(half), outcomes(full));
    } finally {
      disposeParams(params);
    }
  });

  test("the seed still matters: another seed draws other random starts", async () => {
    const a = await evaluate(toy.model, data, { attacks: ["pgd-1"], eps: "3/255", seed: 1, batchSize: 4, examples: 16, checks: false });
    const b = await evaluate(toy.model, data, { attacks: ["pgd-1"], eps: "3/255", seed: 2, batchSize: 4, examples: 16, checks: false });
    assert.notDeepEqual(a.examples!.adversarial, b.examples!.adversarial);
  });
});

describe("SampleStreams", () => {
  test("a sample's draws depend on its index, not on its batch or position", () => {
    const wide = SampleStreams.forSamples(9, "pgd-20", [0, 1, 2, 3]).fillUniform(4 * 5, -1, 1);
    const alone = SampleStreams.forSamples(9, "pgd-20", [2]).fillUniform(5, -1, 1);
    assert.deepEqual(wide.subarray(10, 15), alone);
    const reordered = SampleStreams.forSamples(9, "pgd-20", [3, 2]).fillUniform(10, -1, 1);
    assert.deepEqual(reordered.subarray(5, 10), alone);
  });

  test("rows() follows the samples of a subset; row() draws from one sample's stream", () => {
    const all = SampleStreams.forSamples(4, "fab-t", [10, 11, 12]);
    const sub = all.rows([2, 0]).fillNormal(6);
    const ref12 = Rng.fromSeed(4, "eval:fab-t:12").fillNormal(3);
    const ref10 = Rng.fromSeed(4, "eval:fab-t:10").fillNormal(3);
    assert.deepEqual(sub, Float32Array.from([...ref12, ...ref10]));
    assert.equal(SampleStreams.forSamples(4, "square", [11]).row(0).next(), Rng.fromSeed(4, "eval:square:11").next());
  });

  test("a fill that does not split into the rows is refused, naming the sizes", () => {
    assert.throws(() => SampleStreams.forSamples(0, "pgd", [0, 1, 2]).fillUniform(10, 0, 1), /10 values do not split into 3 sample rows/);
    assert.throws(() => SampleStreams.forSamples(0, "pgd", [0]).row(1), /row 1 is outside a batch of 1 samples/);
  });

  test("a single Rng serves every row in order (training's attack stream is unchanged)", () => {
    const a = Rng.fromSeed(5, "attack");
    const b = Rng.fromSeed(5, "attack");
    const batchWide = a.fillUniform(12, -1, 1);
    const rowWise = Float32Array.from([...b.rows([0, 1, 2]).fillUniform(6, -1, 1), ...b.row(2).fillUniform(6, -1, 1)]);
    assert.deepEqual(rowWise, batchWide);
  });
});
