import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { shapes10, SHAPES10_CLASSES } from "../../../src/core/data/synthetic";
import { checkDataset } from "../../../src/core/data/types";

const PER = 32 * 32 * 3;

describe("synthetic shapes10", () => {
  test("is deterministic per seed, and the first k samples do not depend on n", () => {
    const a = shapes10({ n: 30, seed: 1 });
    const b = shapes10({ n: 30, seed: 1 });
    const head = shapes10({ n: 7, seed: 1 });
    assert.deepEqual(a.images, b.images);
    assert.deepEqual(a.labels, b.labels);
    assert.deepEqual(head.images, a.images.subarray(0, 7 * PER));
    assert.deepEqual(head.labels, a.labels.subarray(0, 7));
  });

  test("offset selects later samples; other seeds and the test split differ", () => {
    const a = shapes10({ n: 30, seed: 1 });
    const off = shapes10({ n: 5, seed: 1, offset: 20 });
    assert.deepEqual(off.images, a.images.subarray(20 * PER, 25 * PER));
    assert.notDeepEqual(shapes10({ n: 5, seed: 2 }).images, a.images.subarray(0, 5 * PER));
    assert.notDeepEqual(shapes10({ n: 5, seed: 1, split: "test" }).images, a.images.subarray(0, 5 * PER));
  });

  test("pixels are finite and in [0,1]; sizes and names are consistent", () => {
    const ds = checkDataset(shapes10({ n: 40, seed: 3 }));
    assert.equal(ds.height, 32);
    assert.equal(ds.width, 32);
    assert.equal(ds.numClasses, 10);
    assert.deepEqual(ds.classNames, [...SHAPES10_CLASSES]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of ds.images) {
      assert.ok(Number.isFinite(v));
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.5, `range [${lo}, ${hi}]`);
  });

  test("classes are exactly balanced in every block of 10", () => {
    const ds = shapes10({ n: 200, seed: 4 });
    for (let block = 0; block < 20; block++) {
      const labels = [...ds.labels.subarray(block * 10, block * 10 + 10)].sort((a, b) => a - b);
      assert.deepEqual(labels, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  test("bad sizes are named errors", () => {
    assert.throws(() => shapes10({ n: -1, seed: 0 }), /n must be a non-negative integer, got -1/);
    assert.throws(() => shapes10({ n: 1, seed: 0.5 }), /seed must be an integer/);
  });
});
