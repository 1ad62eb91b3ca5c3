import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { evalWorkersThatFit } from "../../../src/core/memory/evalWorkers";

const GiB = 2 ** 30;

describe("evaluation pool workers that fit in RAM", () => {
  test("as many as asked when 75 % of free RAM holds them", () => {
    // 4 × 1.5 GiB = 6 GiB ≤ 0.75 × 8 GiB
    assert.deepEqual(evalWorkersThatFit(4, 1.5 * GiB, 8 * GiB), { workers: 4 });
  });

  test("capped to what fits, with the reason", () => {
    // 0.75 × 8 GiB = 6 GiB holds 2 workers of 2.5 GiB, not 4
    const c = evalWorkersThatFit(4, 2.5 * GiB, 8 * GiB);
    assert.equal(c.workers, 2);
    assert.equal(c.note, "evaluating on 2 workers instead of 4: each holds a model and its attack batch (about 2.50 GiB) and 4 would need 10.00 GiB, over 6.00 GiB (75 % of free RAM)");
  });

  test("never below one: the daemon's own thread evaluates when no worker fits", () => {
    assert.equal(evalWorkersThatFit(3, 10 * GiB, 1 * GiB).workers, 1);
    assert.deepEqual(evalWorkersThatFit(1, 10 * GiB, 1 * GiB), { workers: 1 });
  });
});
