import * as tf from "@tensorflow/tfjs";
import { Rng } from "../rng";
import { shardAttackStates, shardStep, ShardTrainer } from "../parallel/trainShard";
import type { ShardedGradients } from "./trainer";

/**
 * Gradient accumulation: one optimizer step's gradients computed micro-batch by micro-batch, so
 * a batch of 128 needs the activations of one micro-batch only (docs/memory.md). It is the
 * data-parallel shard step (src/core/parallel/trainShard.ts) run in sequence in this thread:
 * every defense loss is a batch mean of per-sample terms, so Σ_i mean_i · n_i / B = mean_B, and
 * each micro-batch's attack draws what the full-batch attack draws for its samples. The result
 * equals one full-batch step up to float reassociation (test/core/train/accumulate.test.ts).
 */

/** `batch` split into ceil(batch / micro) near-equal parts, each at most `micro`. */
export function microBatchSizes(batch: number, micro: number): number[] {
  if (!(Number.isInteger(micro) && micro >= 1)) throw new Error(`micro-batch size must be a positive integer, got ${micro}`);
  const k = Math.ceil(batch / micro);
  const base = Math.floor(batch / k);
  return Array.from({ length: k }, (_, i) => base + (i < batch % k ? 1 : 0));
}

/**
 * `x` may be one data-parallel shard of a larger batch of `batch` images
 * (src/daemon/parallel/trainerParallel.ts): each micro-batch then weighs n_i / batch, and `rng`
 * is the attack stream positioned at the shard's first sample.
 */
export async function accumulateGradients(trainer: ShardTrainer, t: number, x: tf.Tensor4D, y: tf.Tensor1D, rng: Rng, micro: number, batch = x.shape[0]): Promise<ShardedGradients> {
  const B = batch;
  const sizes = microBatchSizes(x.shape[0], micro);
  const states = shardAttackStates(trainer, t, x, y, sizes, rng);
  let grads: Record<string, tf.Tensor> = {};
  let loss = 0;
  let advCorrect = 0;
  let cleanCorrect: number | undefined = 0;
  let offset = 0;
  try {
    for (let i = 0; i < sizes.length; i++) {
      const n = sizes[i];
      const xs = tf.slice(x, [offset, 0, 0, 0], [n, -1, -1, -1]);
      const ys = tf.slice(y, [offset], [n]);
      offset += n;
      let g: ShardedGradients;
      try {
        g = await shardStep(trainer, t, xs, ys, { ...trainer.args.attack, rng: Rng.fromState(states[i]) }, n / B);
      } finally {
        tf.dispose([xs, ys]);
      }
      grads = addInto(grads, g.grads);
      loss += g.loss;
      advCorrect += g.advCorrect;
      cleanCorrect = cleanCorrect === undefined || g.cleanCorrect === undefined ? undefined : cleanCorrect + g.cleanCorrect;
      // Yield between micro-batches: a long step stays cancellable and the thread responsive.
      await Promise.resolve();
    }
  } catch (e) {
    tf.dispose(Object.values(grads));
    throw e;
  }
  return { grads, loss, advCorrect, cleanCorrect };
}

/** sum + g per name (both disposed), keeping only the running sum alive. */
function addInto(sum: Record<string, tf.Tensor>, g: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = { ...sum };
  for (const [k, v] of Object.entries(g)) {
    if (!out[k]) out[k] = v;
    else {
      const next = tf.add(out[k], v);
      out[k].dispose();
      v.dispose();
      out[k] = next;
    }
  }
  return out;
}

/**
 * One shard's gradients as a data-parallel worker computes them: in one pass when it is at most
 * `micro` images, else as accumulated micro-batches (src/core/train/accumulate.ts) whose draws
 * continue the shard's stream — so a model that needs micro-batches on one thread needs them on
 * every worker too, and the result is the same step up to float reassociation.
 */
export async function shardGradients(trainer: ShardTrainer, t: number, x: tf.Tensor4D, y: tf.Tensor1D, rng: Rng, weight: number, batch: number, micro: number): Promise<ShardedGradients> {
  if (x.shape[0] <= micro) return shardStep(trainer, t, x, y, { ...trainer.args.attack, rng }, weight);
  return accumulateGradients(trainer, t, x, y, rng, micro, batch);
}
