import * as tf from "@tensorflow/tfjs";
import { Rng, RngState } from "../rng";
import { readScalar } from "../tensorRead";
import type { Classifier } from "../model/vit";
import type { ShardedGradients, Trainer } from "../train/trainer";
import type { InnerAttack } from "../train/defenses/types";

/**
 * The one training step's gradients (defense t's craft + loss + backward) on one shard of the
 * batch: Trainer.trainStep runs it on the whole batch as one local shard, gradient accumulation
 * (src/core/train/accumulate.ts) on micro-batches in sequence, data-parallel workers
 * (src/daemon/parallel/trainerParallel.ts) on a shard each. Every defense loss is a batch mean
 * of per-sample terms, so
 *   Σ_shards mean_shard · n_shard / B = mean_batch,
 * and the gradients of the weighted shard losses add up to the full-batch gradient (up to float
 * reassociation). The attacks are per-sample too: the model is frozen while x' is crafted.
 */

/** What the shard step needs from a Trainer (its models, defenses, attack settings, variables). */
export type ShardTrainer = Pick<Trainer, "args" | "model" | "attackModel">;

/** A model that costs nothing: only the rng draws of a 0-step craft are wanted from it. */
function nullModel(numClasses: number): Classifier {
  return (x) => tf.zeros([x.shape[0], numClasses]) as tf.Tensor2D;
}

/**
 * Positions one attack stream per shard so that shard i draws exactly what the full-batch craft
 * would draw for its samples: the defense's craft is replayed with 0 iterations (only the random
 * start is drawn, for PGD's uniform and TRADES' Gaussian starts alike) shard after shard. `rng`
 * ends where a full-batch craft leaves it. Holds for any defense whose draws are elementwise in
 * sample-major order at the start (all registered ones; checked per defense in the tests).
 */
export function shardAttackStates(trainer: ShardTrainer, t: number, x: tf.Tensor4D, y: tf.Tensor1D, sizes: number[], rng: Rng): RngState[] {
  const { defenses, attack, vit } = trainer.args;
  const states: RngState[] = [];
  let offset = 0;
  for (const n of sizes) {
    states.push(rng.state());
    tf.tidy(() => {
      const xs = tf.slice(x, [offset, 0, 0, 0], [n, -1, -1, -1]);
      const ys = tf.slice(y, [offset], [n]);
      defenses[t].craft(nullModel(vit.numClasses), xs, ys, { ...attack, steps: 0, rng });
    });
    offset += n;
  }
  return states;
}

/**
 * Defense t's craft and loss on one shard; gradients of mean_shard · `weight` (= n_shard / B)
 * w.r.t. every tunable variable, keyed like `tunable.vars`.
 */
export async function shardStep(trainer: ShardTrainer, t: number, x: tf.Tensor4D, y: tf.Tensor1D, attack: InnerAttack, weight: number): Promise<ShardedGradients> {
  const defense = trainer.args.defenses[t];
  const vars = trainer.args.tunable.vars;
  const names = Object.keys(vars);
  const xAdv = tf.tidy(() => defense.craft(trainer.attackModel(t), x, y, attack));
  let logitsAdv: tf.Tensor2D | undefined;
  let logitsClean: tf.Tensor2D | undefined;
  const { value, grads } = tf.variableGrads(
    () => {
      const out = defense.loss(trainer.model(t), x, xAdv, y);
      logitsAdv = tf.keep(out.logitsAdv);
      if (out.logitsClean) logitsClean = tf.keep(out.logitsClean);
      return tf.mul(out.loss, weight) as tf.Scalar;
    },
    names.map((n) => vars[n]),
  );
  // Async reads: gradient accumulation runs this on the main thread, where webgpu in Node cannot
  // read synchronously (src/core/tensorRead.ts).
  const advCorrect = await correct(logitsAdv!, y);
  const cleanCorrect = logitsClean ? await correct(logitsClean, y) : undefined;
  tf.dispose([xAdv, logitsAdv, logitsClean]);
  const loss = await readScalar(value);
  // variableGrads keys by tf.Variable.name; the optimizer and the workers use our stable names.
  const byName: Record<string, tf.Tensor> = {};
  for (const n of names) {
    const g = grads[vars[n].name];
    if (g) byName[n] = g;
  }
  return { grads: byName, loss, advCorrect, cleanCorrect };
}

function correct(logits: tf.Tensor2D, y: tf.Tensor1D): Promise<number> {
  return readScalar(tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32"))));
}
