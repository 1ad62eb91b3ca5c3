import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "../model/config";
import { ParamMap } from "../model/params";
import { forward } from "../model/vit";
import { crossEntropy } from "../attacks/losses";
import { learningRate } from "./adamw";

export interface PretrainArgs {
  vit: ViTConfig;
  init: ParamMap;
  steps: number;
  lr: number;
  nextBatch: () => { x: tf.Tensor4D; y: tf.Tensor1D };
  onStep?: (step: number, loss: number) => void;
}

/**
 * Clean (non-adversarial) training of every weight with Adam and a cosine schedule. It stands in
 * for an ImageNet-pretrained checkpoint on CPU demos: HyperAT then starts, as in the paper, from a
 * model that is accurate but not robust. Returns new tensors; `init` is left untouched.
 */
export async function pretrainClean(a: PretrainArgs): Promise<ParamMap> {
  const vars = tf.tidy(() => Object.fromEntries(Object.entries(a.init).map(([k, t]) => [k, tf.variable(tf.clone(t), true)])));
  const opt = tf.train.adam(a.lr);
  try {
    for (let s = 0; s < a.steps; s++) {
      (opt as unknown as { learningRate: number }).learningRate = learningRate(s, a.steps, a.lr, Math.min(20, a.steps / 10), 0.02);
      const { x, y } = a.nextBatch();
      const loss = opt.minimize(() => tf.mean(crossEntropy(forward(a.vit, vars, x), y)) as tf.Scalar, true);
      const v = (await loss!.data())[0];
      tf.dispose([loss ?? undefined, x, y]);
      if (!Number.isFinite(v)) throw new Error(`clean pretraining diverged at step ${s + 1} (loss ${v}); lower pretrain.lr`);
      a.onStep?.(s + 1, v);
    }
    return tf.tidy(() => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.clone(v)])));
  } finally {
    for (const v of Object.values(vars)) v.dispose();
    opt.dispose();
  }
}

/** Gradients of the batch-mean clean CE, keyed like the parameters, computed elsewhere (workers). */
export type CleanGradients = (vars: Record<string, tf.Variable>, x: tf.Tensor4D, y: tf.Tensor1D) => Promise<{ grads: Record<string, tf.Tensor>; loss: number }>;

/**
 * pretrainClean with the forward and backward passes done by `gradients` (data-parallel
 * workers); the schedule, the Adam update and the divergence check are the same. The result
 * equals pretrainClean's up to float reassociation.
 */
export async function pretrainCleanSharded(a: PretrainArgs, gradients: CleanGradients): Promise<ParamMap> {
  const vars = tf.tidy(() => Object.fromEntries(Object.entries(a.init).map(([k, t]) => [k, tf.variable(tf.clone(t), true)])));
  const opt = tf.train.adam(a.lr);
  try {
    for (let s = 0; s < a.steps; s++) {
      (opt as unknown as { learningRate: number }).learningRate = learningRate(s, a.steps, a.lr, Math.min(20, a.steps / 10), 0.02);
      const { x, y } = a.nextBatch();
      let g;
      try {
        g = await gradients(vars, x, y);
      } finally {
        tf.dispose([x, y]);
      }
      const v = g.loss;
      if (Number.isFinite(v)) opt.applyGradients(Object.entries(g.grads).map(([k, tensor]) => ({ name: vars[k].name, tensor })));
      tf.dispose(Object.values(g.grads));
      if (!Number.isFinite(v)) throw new Error(`clean pretraining diverged at step ${s + 1} (loss ${v}); lower pretrain.lr`);
      a.onStep?.(s + 1, v);
    }
    return tf.tidy(() => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, tf.clone(v)])));
  } finally {
    for (const v of Object.values(vars)) v.dispose();
    opt.dispose();
  }
}
