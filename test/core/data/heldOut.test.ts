import { test } from "node:test";
import assert from "node:assert/strict";
import { holdOut } from "../../../src/core/data/heldOut";
import { shapes10 } from "../../../src/core/data/synthetic";

const train = shapes10({ n: 40, seed: 7 });

test("holds n images out of train, deterministically by seed, and the two parts partition it", () => {
  const a = holdOut(train, 10, 3);
  assert.equal(a.val.n, 10);
  assert.equal(a.train.n, 30);
  assert.deepEqual(holdOut(train, 10, 3).valIndices, a.valIndices);
  assert.notDeepEqual(holdOut(train, 10, 4).valIndices, a.valIndices);
  assert.deepEqual([...a.valIndices], [...a.valIndices].sort((x, y) => x - y));
  // Each held-out image is the training image at the recorded index; none stays in training.
  const size = 32 * 32 * 3;
  a.valIndices.forEach((i, k) => {
    assert.equal(a.val.labels[k], train.labels[i]);
    assert.deepEqual(a.val.images.subarray(k * size, (k + 1) * size), train.images.subarray(i * size, (i + 1) * size));
  });
  const rest = Array.from({ length: 40 }, (_, i) => i).filter((i) => !a.valIndices.includes(i));
  assert.deepEqual([...a.train.labels], rest.map((i) => train.labels[i]));
});

test("holding out all (or more than all) training images is rejected naming /data/val", () => {
  assert.throws(() => holdOut(train, 40, 0), /^Error: \/data\/val: holding out n=40 of the 40 training samples of synthetic:shapes10\?n=40&seed=7 leaves none to train on/);
  assert.throws(() => holdOut(train, 0, 0), /n must be an integer >= 1/);
});
