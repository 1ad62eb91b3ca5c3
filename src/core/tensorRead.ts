import type * as tf from "@tensorflow/tfjs";

// Reads from device memory. `dataSync()` cannot work on the webgpu backend in Node (Dawn maps
// buffers only asynchronously and there is no OffscreenCanvas), so every read on the training,
// attack, merge and evaluation paths goes through these; on cpu and wasm `data()` resolves to
// the same values `dataSync()` returns.

/** The values of `t`, then disposes it (for tensors made only to be read). */
export async function readAndDispose<R extends tf.Rank>(t: tf.Tensor<R>): Promise<tf.TypedArray> {
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

/** The first element of `t` as a number, then disposes `t`. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  return (await readAndDispose(t))[0] as number;
}

/** The values of `t` as an own Float32Array copy (safe to keep after `t` is gone), then disposes `t`. */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  return Float32Array.from((await readAndDispose(t)) as Float32Array);
}
