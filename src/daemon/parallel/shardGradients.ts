// A batch's shards and their gradients on both sides of a gradient thread (gradientThreads.ts):
// the plain-data form that crosses, and summing the helpers' shares into the main thread's.
import * as tf from "@tensorflow/tfjs";

/** A tensor as plain data (structured-clone friendly). */
export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

/** A shard's weighted gradients as a thread sends them back (own buffers, transferred). */
export interface RawShardGradients {
  grads: Record<string, Float32Array>;
}

/** Plain-data copies of tensors (for a helper's init). */
export function rawTensors(ts: Record<string, tf.Tensor>): Record<string, RawTensor> {
  const out: Record<string, RawTensor> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = { shape: t.shape, data: new Float32Array(t.dataSync()) };
  return out;
}

/**
 * Samples [offset, offset + n) of a batch as own buffers: on the cpu backend dataSync can return
 * a view of a shared buffer, which must not be transferred (detached) away from its tensor.
 */
export function shardData(x: tf.Tensor4D, y: tf.Tensor1D, offset: number, n: number): { x: Float32Array; y: Int32Array } {
  return tf.tidy(() => ({
    x: new Float32Array(tf.slice(x, [offset, 0, 0, 0], [n, -1, -1, -1]).dataSync()),
    y: new Int32Array(tf.slice(y, [offset], [n]).dataSync()),
  }));
}

/** In a helper: sets its copies of the variables to the main thread's current values. */
export function assignValues(vars: Record<string, tf.Variable>, values: Record<string, Float32Array>): void {
  for (const [name, v] of Object.entries(values)) {
    const target = vars[name];
    if (!target) throw new Error(`gradient worker: unknown variable "${name}"`);
    tf.tidy(() => target.assign(tf.tensor(v, target.shape)));
  }
}

/** In a helper: the shard's gradients as own buffers (to transfer), freeing the tensors. */
export function packGradients(grads: Record<string, tf.Tensor>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, g] of Object.entries(grads)) {
    out[name] = new Float32Array(g.dataSync()); // an own buffer we can transfer
    g.dispose();
  }
  return out;
}

/**
 * Computes the main thread's shard while the helpers compute theirs (`pending`), then collects
 * their replies. If our shard throws we still wait for the helpers, so no late reply can answer a
 * later request; if a helper fails, our gradients are freed.
 */
export async function ownShardAndReplies<T extends { grads: Record<string, tf.Tensor> }, R>(
  pending: Promise<R>[],
  computeOwn: () => T | Promise<T>,
): Promise<{ own: T; replies: R[] }> {
  let own: T;
  try {
    own = await computeOwn();
  } catch (e) {
    await Promise.allSettled(pending);
    throw e;
  }
  try {
    return { own, replies: await Promise.all(pending) };
  } catch (e) {
    tf.dispose(Object.values(own.grads));
    throw e;
  }
}

/**
 * Our shard's gradients plus every helper's, per variable (each shard's loss is already weighted
 * by its share of the batch). Each reply must carry every gradient. Frees ours.
 */
export function sumShardGradients(own: Record<string, tf.Tensor>, replies: RawShardGradients[]): Record<string, tf.Tensor> {
  const grads = tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(own)) {
      const parts = [g];
      for (const r of replies) {
        const data = r.grads[name];
        if (!data) throw new Error(`gradient worker sent no gradient for "${name}"`);
        parts.push(tf.tensor(data, g.shape));
      }
      out[name] = parts.length > 1 ? tf.addN(parts) : tf.clone(g);
    }
    return out;
  });
  tf.dispose(Object.values(own));
  return grads;
}
