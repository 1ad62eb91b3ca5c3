import * as tf from "@tensorflow/tfjs";
import { batchMatMul } from "../backend/wasm/batchMatMulPerItem";
import { wasmBlas } from "../backend/wasm/blasMatMul";

/**
 * Scaled dot-product attention over `[B·H, T, Dh]` heads (Vaswani et al. 2017, eq. 1):
 *   softmax(Q Kᵀ / √Dh) V.
 * Fast form: the 1/√Dh scale is folded into Q (T·Dh multiplies instead of T·T) and both products
 * are plain un-flagged batched matMuls, which `batchMatMul` runs item by item on XNNPACK on wasm.
 */
export function scaledDotAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
  const Dh = q.shape[2];
  const qs = tf.mul(q, 1 / Math.sqrt(Dh)) as tf.Tensor3D;
  if (wasmBlas()) {
    // sgemm takes the transpose flag for free: no transposed copy of K.
    return tf.matMul(tf.softmax(tf.matMul(qs, k, false, true), -1) as tf.Tensor3D, v);
  }
  const kT = tf.transpose(k, [0, 2, 1]) as tf.Tensor3D; // [B·H, Dh, T]
  const scores = batchMatMul(qs, kT); // [B·H, T, T]
  return batchMatMul(tf.softmax(scores, -1) as tf.Tensor3D, v); // [B·H, T, Dh]
}

/** The same attention with stock tfjs ops: the reference the fast path is tested against. */
export function plainScaledDotAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D): tf.Tensor3D {
  const Dh = q.shape[2];
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(Dh));
  return tf.matMul(tf.softmax(scores, -1) as tf.Tensor3D, v);
}
