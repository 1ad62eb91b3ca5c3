import * as tf from "@tensorflow/tfjs";
import type { ViTConfig } from "../model/config";
import { forward } from "../model/vit";
import { crossEntropy } from "../attacks/losses";

/**
 * Clean pretraining's loss (pretrain.ts: batch-mean CE of every weight) on one shard of the
 * batch: gradients of mean_shard · `weight` (= n_shard / B), keyed like `vars`. Summed over the
 * shards they are the full-batch gradient, up to float reassociation.
 */
export function cleanShardGradients(
  vit: ViTConfig,
  vars: Record<string, tf.Variable>,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  weight: number,
): { grads: Record<string, tf.Tensor>; loss: number } {
  const names = Object.keys(vars);
  const { value, grads } = tf.variableGrads(
    () => tf.mul(tf.mean(crossEntropy(forward(vit, vars, x), y)), weight) as tf.Scalar,
    names.map((n) => vars[n]),
  );
  const loss = value.dataSync()[0];
  value.dispose();
  const byName: Record<string, tf.Tensor> = {};
  for (const n of names) byName[n] = grads[vars[n].name];
  return { grads: byName, loss };
}
