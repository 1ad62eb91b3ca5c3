import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { resolveWorkers, shardSizes } from "../../../src/daemon/parallel/workerCount";

describe("worker count", () => {
  test("shard sizes cover the batch evenly; workers option validates", () => {
    assert.deepEqual(shardSizes(10, 3), [4, 3, 3]);
    assert.deepEqual(shardSizes(2, 4), [1, 1]);
    assert.equal(resolveWorkers(3), 3);
    assert.ok(resolveWorkers("auto") >= 1);
    assert.throws(() => resolveWorkers(0), /integer ≥ 1, got 0/);
  });
});
