import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { workersThatFit } from "../../../src/core/memory/workersThatFit";

const EVAL = { doing: "evaluating", holds: "a model and its attack batch" };

const GiB = 2 ** 30;

describe("worker threads that fit in RAM", () => {
  test("as many as asked when 75 % of free RAM holds them", () => {
    // 4 × 1.5 GiB = 6 GiB ≤ 0.75 × 8 GiB
    assert.deepEqual(workersThatFit(4, 1.5 * GiB, 8 * GiB, EVAL), { workers: 4 });
  });

  test("capped to what fits, with the reason", () => {
    // 0.75 × 8 GiB = 6 GiB holds 2 workers of 2.5 GiB, not 4
    const c = workersThatFit(4, 2.5 * GiB, 8 * GiB, EVAL);
    assert.equal(c.workers, 2);
    assert.equal(c.note, "evaluating on 2 workers instead of 4: each holds a model and its attack batch (about 2.50 GiB) and 4 would need 10.00 GiB, over 6.00 GiB (75 % of free RAM)");
  });

  test("the note says what the workers do and hold", () => {
    assert.match(workersThatFit(2, 4 * GiB, 8 * GiB, { doing: "training", holds: "a model copy and its micro-batch" }).note!, /^training on 1 worker instead of 2: each holds a model copy and its micro-batch \(about 4\.00 GiB\)/);
  });

  test("never below one: the daemon's own thread evaluates when no worker fits", () => {
    assert.equal(workersThatFit(3, 10 * GiB, 1 * GiB, EVAL).workers, 1);
    assert.deepEqual(workersThatFit(1, 10 * GiB, 1 * GiB, EVAL), { workers: 1 });
  });
});
