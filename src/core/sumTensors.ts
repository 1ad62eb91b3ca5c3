import * as tf from "@tensorflow/tfjs";

/**
 * a0 + a1 + … in order. Not `tf.addN`: tfjs-backend-webgpu binds every input of an addN to one
 * shader, and Dawn caps storage buffers per shader stage (8 on lavapipe and many GPUs), so an
 * addN over the ~20 parameter norms of a ViT failed validation. On cpu and wasm addN also adds
 * the inputs one after another in float32, so the result is bit-identical there.
 */
export function sumInOrder<T extends tf.Tensor>(ts: T[]): T {
  if (ts.length === 0) throw new Error("sumInOrder: no tensors to add");
  return tf.tidy(() => ts.slice(1).reduce<tf.Tensor>((acc, t) => tf.add(acc, t), ts[0].clone())) as T;
}
