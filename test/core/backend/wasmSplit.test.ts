import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../../src/core/backend/select";
import { setWasmBackend } from "./wasmBackend";

/** tf.split on the cpu backend and on wasm with the block-copy SplitV: bit-identical pieces. */
async function compare(shape: number[], split: number | number[], axis: number, dtype: "float32" | "int32" = "float32") {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (dtype === "int32" ? i : i * 0.5 - 3));
  const run = () => {
    const parts = tf.split(tf.tensor(values, shape, dtype), split, axis);
    const out = parts.map((p) => ({ shape: p.shape, data: Array.from(p.dataSync()) }));
    tf.dispose(parts);
    return out;
  };
  await tf.setBackend("cpu");
  const expected = run();
  await setWasmBackend();
  assert.deepEqual(run(), expected);
}

describe("wasm SplitV by block copies", () => {
  before(async () => {
    await selectBackend("wasm"); // installs the block-copy SplitV (src/core/backend/wasm/fastPaths.ts)
  });

  it("splits q/k/v along the leading axis", () => compare([3, 4, 5, 16], 3, 0));
  it("splits an inner axis (one block per outer index)", () => compare([2, 6, 4, 16], 3, 1));
  it("takes uneven sizes and a negative axis", () => compare([2, 5, 64], [1, 3, 1], -2));
  it("copies int32 bit-exactly", () => compare([4, 70], [2, 2], 0, "int32"));
  it("falls back to the stock kernel for tiny blocks (last axis)", () => compare([5, 6], [2, 4], 1));
  it("gives the same pieces and values as a hand-written split", () => {
    const [a, b] = tf.split(tf.tensor2d(Array.from({ length: 2 * 128 }, (_, i) => i), [2, 128]), [64, 64], 1);
    assert.deepEqual(a.shape, [2, 64]);
    assert.equal(a.dataSync()[64], 128);
    assert.equal(b.dataSync()[0], 64);
    tf.dispose([a, b]);
  });
});
