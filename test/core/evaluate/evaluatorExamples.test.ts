import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { selectTestBackend } from "../../../src/core/backend/select";
import { evaluate } from "../../../src/core/evaluate/evaluator";
import { HW, scriptedAttack, scriptedData, scriptedModel } from "./fakes";

const EPS = 8 / 255;
/** Channel 1 of example i's adversarial image (all pixels agree in the scripted data). */
const ch1 = (adv: Float32Array, i: number) => adv[i * HW * HW * 3 + 1];

describe("evaluator keeps adversarial examples", () => {
  before(async () => {
    await selectTestBackend();
  });

  // As evaluator.test.ts: 0 and 9 misclassified clean; a breaks {1,2}, b {2,3,5}, c {6}.
  const data = scriptedData(10, [0, 9]);

  test("the first k samples: the breaking attack's image, the last attempt, or the clean image", async () => {
    const r = await evaluate(scriptedModel, data, { attacks: [scriptedAttack("a", [1, 2]), scriptedAttack("b", [2, 3, 5]), scriptedAttack("c", [6])], eps: "8/255", batchSize: 4, examples: 7 });
    const e = r.examples!;
    assert.deepEqual(e.indices, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(e.adversarial.length, 7 * HW * HW * 3);
    assert.deepEqual(e.brokenBy, ["clean", "a", "a", "b", null, "b", "c"]);
    assert.deepEqual(e.cleanPred, [0, 0, 0, 0, 0, 0, 0]);
    // Predicts 1 iff channel 1 > 0.5: every broken sample flipped, 4 survived, 0 was never attacked.
    assert.deepEqual(e.advPred, [0, 1, 1, 1, 0, 1, 1]);
    const shifted = [0, 1, 1, 1, 0, 1, 1];
    shifted.forEach((s, i) => assert.ok(Math.abs(ch1(e.adversarial, i) - (0.49 + s * EPS)) < 1e-6, `example ${i}: ${ch1(e.adversarial, i)}`));
    // Channel 0 still carries the sample's own index: no image landed in another's slot.
    for (let i = 0; i < 7; i++) assert.ok(Math.abs(e.adversarial[i * HW * HW * 3] - i / 1000) < 1e-6);
  });

  test("with perAttack a later attack that also breaks a sample does not replace the breaking image", async () => {
    // b shifts by 5/255 (still past 0.5) and, under perAttack, runs on 2 again after a broke it.
    const r = await evaluate(scriptedModel, data, { attacks: [scriptedAttack("a", [1, 2]), scriptedAttack("b", [2, 3], true, 5 / 255)], eps: "8/255", batchSize: 3, examples: 4, perAttack: true });
    const e = r.examples!;
    assert.deepEqual(e.brokenBy, ["clean", "a", "a", "b"]);
    assert.ok(Math.abs(ch1(e.adversarial, 2) - (0.49 + EPS)) < 1e-6, "sample 2 keeps a's image");
    assert.ok(Math.abs(ch1(e.adversarial, 3) - (0.49 + 5 / 255)) < 1e-6, "sample 3 has b's image");
  });

  test("examples are capped at n and absent unless asked for", async () => {
    const capped = await evaluate(scriptedModel, data, { attacks: [scriptedAttack("a", [1])], eps: "8/255", n: 3, examples: 50 });
    assert.deepEqual(capped.examples!.indices, [0, 1, 2]);
    const none = await evaluate(scriptedModel, data, { attacks: [scriptedAttack("a", [1])], eps: "8/255" });
    assert.equal(none.examples, undefined);
  });
});
