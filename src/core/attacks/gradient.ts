import * as tf from "@tensorflow/tfjs";
import type { Classifier, LossFn } from "./types";

export interface LossAndGrad {
  /** Logits at x, `[B, K]`. */
  logits: tf.Tensor2D;
  /** Per-sample loss at x, `[B]`. */
  loss: tf.Tensor1D;
  /** d(Σ loss)/dx, `[B, H, W, C]`: per-sample gradients because samples do not interact. */
  grad: tf.Tensor4D;
}

/**
 * One forward + backward pass w.r.t. the *input only* (the model's tensors are constants here).
 * Logits and per-sample losses come out of the same pass so attacks need no extra forward to
 * track the best point. All three results belong to the caller's scope.
 */
export function lossAndGrad(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, loss: LossFn): LossAndGrad {
  let logits: tf.Tensor2D | undefined;
  let losses: tf.Tensor1D | undefined;
  const grad = tf.grad((xi: tf.Tensor) => {
    const l = model(xi as tf.Tensor4D);
    const v = loss(l, y);
    // tf.grad tidies everything it created; keep these two and re-home them below.
    logits = tf.keep(l);
    losses = tf.keep(v);
    return tf.sum(v) as tf.Scalar;
  })(x) as tf.Tensor4D;
  const out = { logits: tf.clone(logits!), loss: tf.clone(losses!), grad };
  logits!.dispose();
  losses!.dispose();
  return out;
}
