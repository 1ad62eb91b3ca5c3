import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { evaluate, EvaluationCancelledError, EvalProgress } from "../../../src/core/evaluate/evaluator";
import { scriptedAttack, scriptedData, scriptedModel } from "./fakes";

describe("evaluator bookkeeping (scripted attacks)", () => {
  before(async () => {
    await selectTestBackend();
  });

  // 10 samples; 0 and 9 misclassified clean. A breaks {1,2}, B breaks {2,3,5}, C (no gradients) {6}.
  const data = scriptedData(10, [0, 9]);
  const suite = () => [scriptedAttack("a", [1, 2]), scriptedAttack("b", [2, 3, 5]), scriptedAttack("c", [6, 2], false)];

  test("each attack runs only on survivors; cumulative and worst-case accuracies", async () => {
    const [a, b, c] = suite();
    const r = await evaluate(scriptedModel, data, { attacks: [a, b, c], eps: "8/255", seed: 3, batchSize: 4, perSample: true });
    assert.deepEqual(a.seen, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(b.seen, [3, 4, 5, 6, 7, 8]);
    assert.deepEqual(c.seen, [4, 6, 7, 8]);
    assert.equal(r.cleanAccuracy, 0.8);
    assert.deepEqual(r.robustAccuracy, { a: 0.6, b: 0.4, c: 0.3 });
    assert.equal(r.worstCaseRobustAccuracy, 0.3);
    assert.deepEqual(r.attacks.map((s) => [s.name, s.attacked, s.broken]), [["a", 8, 2], ["b", 6, 2], ["c", 4, 1]]);
    assert.deepEqual(r.threatModel, { norm: "Linf", eps: "8/255" });
    assert.equal(r.n, 10);
    assert.equal(r.seed, 3);
    assert.equal(r.backend, tf.getBackend());
    assert.equal(r.versions.tfjs, tf.version.tfjs);
    assert.equal(r.perAttackRobustAccuracy, undefined);

    const s = r.samples!;
    assert.deepEqual(s.map((x) => x.brokenBy), ["clean", "a", "a", "b", null, "b", "c", null, null, "clean"]);
    assert.deepEqual(s.filter((x) => x.worstCaseRobust).map((x) => x.index), [4, 7, 8]);
    assert.deepEqual(s[3].robust, { a: true, b: false, c: false });
    assert.deepEqual(s[0].robust, { a: false, b: false, c: false });
    assert.equal(s[9].label, 1);
    assert.equal(s[9].cleanPred, 0);
    assert.equal(s[9].cleanLogits.length, 2);
    // The per-sample flags average to the reported numbers.
    for (const name of ["a", "b", "c"] as const) assert.equal(s.filter((x) => x.robust[name]).length / 10, r.robustAccuracy[name]);
    assert.ok(r.warnings.some((w) => w.startsWith("c (gradient-free) broke 1 of 4 samples that survived a, b")), r.warnings.join("\n"));
  });

  test("perAttack runs every attack on all clean-correct samples; worst case unchanged", async () => {
    const [a, b, c] = suite();
    const r = await evaluate(scriptedModel, data, { attacks: [a, b, c], eps: "8/255", perAttack: true });
    for (const atk of [a, b, c]) assert.deepEqual(atk.seen, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(r.perAttackRobustAccuracy, { a: 0.6, b: 0.5, c: 0.6 });
    assert.deepEqual(r.robustAccuracy, { a: 0.6, b: 0.4, c: 0.3 });
    assert.equal(r.worstCaseRobustAccuracy, 0.3);
  });

  test("batch size changes batching, not results; n takes the first samples", async () => {
    const [a1, b1] = suite();
    const [a2, b2] = suite();
    const big = await evaluate(scriptedModel, data, { attacks: [a1, b1], eps: 8 / 255, batchSize: 64 });
    const small = await evaluate(scriptedModel, data, { attacks: [a2, b2], eps: 8 / 255, batchSize: 3 });
    assert.deepEqual(small.robustAccuracy, big.robustAccuracy);
    assert.deepEqual(a2.batches, [3, 3, 2]);
    assert.deepEqual(a1.batches, [8]);
    const [a3] = suite();
    const few = await evaluate(scriptedModel, data, { attacks: [a3], eps: "8/255", n: 4 });
    assert.equal(few.n, 4);
    assert.deepEqual(a3.seen, [1, 2, 3]);
    assert.equal(few.cleanAccuracy, 0.75);
    assert.equal(few.worstCaseRobustAccuracy, 0.25);
  });

  test("progress reports every phase and ends with done = total", async () => {
    const events: EvalProgress[] = [];
    await evaluate(scriptedModel, data, { attacks: suite(), eps: "8/255", batchSize: 4, onProgress: (p) => events.push(p) });
    for (const phase of ["clean", "a", "b", "c"]) {
      const last = events.filter((e) => e.attack === phase).at(-1)!;
      assert.equal(last.done, last.total, phase);
    }
    assert.deepEqual(events.filter((e) => e.attack === "a").map((e) => e.done), [0, 4, 8]);
  });

  test("cancellation between batches rejects with EvaluationCancelledError", async () => {
    const signal = { aborted: false };
    const [a, b] = suite();
    const run = evaluate(scriptedModel, data, {
      attacks: [a, b],
      eps: "8/255",
      batchSize: 2,
      signal,
      onProgress: (p) => {
        if (p.attack === "a" && p.done === 2) signal.aborted = true;
      },
    });
    await assert.rejects(run, (e: unknown) => e instanceof EvaluationCancelledError && /during a/.test((e as Error).message));
    assert.deepEqual(a.seen, [1, 2]);
    assert.deepEqual(b.seen, []);
  });

  test("an attack leaving the eps ball voids the evaluation", async () => {
    const cheat = scriptedAttack("cheat", [1], true, 0.1);
    await assert.rejects(
      evaluate(scriptedModel, data, { attacks: [cheat], eps: "8/255" }),
      /attack cheat returned a point 0\.1\d* from x, outside eps = 8\/255/,
    );
  });

  test("argument errors", async () => {
    await assert.rejects(evaluate(scriptedModel, data, { attacks: ["pgd-5", "PGD-5"], eps: "8/255" }), /duplicates: pgd-5, pgd-5/);
    await assert.rejects(evaluate(scriptedModel, data, { attacks: ["nope"], eps: "8/255" }), /unknown attack "nope"/);
    await assert.rejects(evaluate(scriptedModel, data, { attacks: [], eps: "2" }), /eps: "2" = 2 must be in \(0, 1\]/);
    await assert.rejects(evaluate(scriptedModel, data, { attacks: [], eps: "8/255", batchSize: 0 }), /batchSize must be an integer/);
  });
});
