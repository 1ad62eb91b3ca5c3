import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Batcher, toTensors, split, augmentInPlace, evalRanges } from "../../../src/core/data/batcher";
import { shapes10 } from "../../../src/core/data/synthetic";
import { Rng } from "../../../src/core/rng";

before(async () => {
  await selectTestBackend();
});

const ds = shapes10({ n: 20, seed: 9 });

function take(b: Batcher, k: number): Array<{ idx: number[]; x: Float32Array; y: number[] }> {
  const out = [];
  for (let i = 0; i < k; i++) {
    const { x, y, indices } = b.nextBatch();
    out.push({ idx: [...indices], x: x.dataSync() as Float32Array, y: [...y.dataSync()] });
    tf.dispose([x, y]);
  }
  return out;
}

describe("batcher", () => {
  test("each epoch visits every sample once in a seeded order; the order changes per epoch", () => {
    const b = new Batcher(ds, { batchSize: 5, seed: 1, augment: false });
    const batches = take(b, 8); // two epochs of 4 batches
    const e1 = batches.slice(0, 4).flatMap((t) => t.idx);
    const e2 = batches.slice(4).flatMap((t) => t.idx);
    assert.deepEqual([...e1].sort((a, c) => a - c), Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual([...e2].sort((a, c) => a - c), Array.from({ length: 20 }, (_, i) => i));
    assert.notDeepEqual(e1, e2);
    assert.deepEqual(take(new Batcher(ds, { batchSize: 5, seed: 1, augment: false }), 4).flatMap((t) => t.idx), e1);
    assert.notDeepEqual(take(new Batcher(ds, { batchSize: 5, seed: 2, augment: false }), 4).flatMap((t) => t.idx), e1);
  });

  test("labels match the indices; without augmentation pixels are the dataset's", () => {
    const b = new Batcher(ds, { batchSize: 4, seed: 1, augment: false });
    const { x, y, indices } = b.nextBatch();
    assert.equal(y.dtype, "int32");
    assert.deepEqual([...y.dataSync()], [...indices].map((i) => ds.labels[i]));
    const ref = toTensors(ds, indices);
    assert.deepEqual(x.dataSync(), ref.x.dataSync());
    tf.dispose([x, y, ref.x, ref.y]);
  });

  test("a restored state (through JSON) continues with identical batches, across an epoch boundary", () => {
    const a = new Batcher(ds, { batchSize: 8, seed: 3, stream: "train-data" });
    take(a, 3);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const expected = take(a, 5);
    const b = new Batcher(ds, { batchSize: 8, seed: 3, stream: "train-data" });
    b.restore(saved);
    const got = take(b, 5);
    assert.deepEqual(got.map((t) => t.idx), expected.map((t) => t.idx));
    for (let i = 0; i < 5; i++) assert.deepEqual(got[i].x, expected[i].x);
    assert.throws(() => b.restore({ epoch: -1, cursor: 0, augment: [1, 2, 3, 4] }), /invalid batcher state/);
  });

  test("augmentation keeps shape and range, and each image is a padded shift (± 4) and maybe a flip of its source", () => {
    const b = new Batcher(ds, { batchSize: 10, seed: 4 });
    const { x, y, indices } = b.nextBatch();
    assert.deepEqual(x.shape, [10, 32, 32, 3]);
    const v = x.dataSync();
    assert.ok(v.every((p) => p >= 0 && p <= 1));
    let changed = 0;
    for (let k = 0; k < 10; k++) {
      const src = ds.images.subarray(indices[k] * 3072, (indices[k] + 1) * 3072);
      const got = v.subarray(k * 3072, (k + 1) * 3072);
      let found = false;
      for (let dy = -4; dy <= 4 && !found; dy++) for (let dx = -4; dx <= 4 && !found; dx++) for (const flip of [false, true]) {
        let ok = true;
        for (let yy = 0; yy < 32 && ok; yy++) for (let xx = 0; xx < 32 && ok; xx++) {
          const sy = yy + dy;
          const sx = (flip ? 31 - xx : xx) + dx;
          for (let c = 0; c < 3; c++) {
            const want = sy < 0 || sy > 31 || sx < 0 || sx > 31 ? 0 : src[(sy * 32 + sx) * 3 + c];
            if (got[(yy * 32 + xx) * 3 + c] !== want) ok = false;
          }
        }
        if (ok) found = true;
      }
      assert.ok(found, `image ${k} is not a shift/flip of sample ${indices[k]}`);
      if (got.some((p, i) => p !== src[i])) changed++;
    }
    assert.ok(changed >= 5, `only ${changed} of 10 images were changed`);
    tf.dispose([x, y]);
  });

  test("augmentInPlace on a 1x2 image with pad 0: a flip swaps the two pixels", () => {
    // Find a seed whose first draws give flip = true with pad 0 (dy, dx are then always 0).
    const img = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    const rng = Rng.fromSeed(0, "t");
    const probe = Rng.fromState(rng.state());
    probe.int(1);
    probe.int(1);
    const flips = probe.next() < 0.5;
    augmentInPlace(img, 1, 1, 2, 0, rng);
    assert.deepEqual([...img], flips ? [...new Float32Array([0.4, 0.5, 0.6, 0.1, 0.2, 0.3])] : [...new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])]);
  });

  test("nextBatch creates exactly two tensors (no leaks inside)", () => {
    const b = new Batcher(ds, { batchSize: 4, seed: 5 });
    const before0 = tf.memory().numTensors;
    const { x, y } = b.nextBatch();
    assert.equal(tf.memory().numTensors, before0 + 2);
    tf.dispose([x, y]);
    assert.equal(tf.memory().numTensors, before0);
  });

  test("split holds out a seeded, disjoint part; sizes and errors", () => {
    const big = shapes10({ n: 50, seed: 6 });
    const { train, val } = split(big, 0.2, 1);
    assert.equal(val.n, 10);
    assert.equal(train.n, 40);
    const again = split(big, 10, 1);
    assert.deepEqual(again.val.labels, val.labels);
    assert.deepEqual(again.val.images, val.images);
    // Disjoint and covering: every sample appears once, identified by its pixels.
    const key = (d: typeof big, i: number) => d.images.subarray(i * 3072, i * 3072 + 8).join(",");
    const all = new Set(Array.from({ length: 50 }, (_, i) => key(big, i)));
    const parts = [...Array.from({ length: 40 }, (_, i) => key(train, i)), ...Array.from({ length: 10 }, (_, i) => key(val, i))];
    assert.equal(new Set(parts).size, 50);
    for (const k of parts) assert.ok(all.has(k));
    assert.throws(() => split(big, 50, 1), /cannot hold out 50 of 50 samples/);
    assert.throws(() => new Batcher(big, { batchSize: 64, seed: 0 }), /has 50 samples, fewer than one batch of 64/);
  });

  test("evalRanges covers [0, n) in order", () => {
    assert.deepEqual(evalRanges(10, 4), [[0, 4], [4, 8], [8, 10]]);
  });
});
