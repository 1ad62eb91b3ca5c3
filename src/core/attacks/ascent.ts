import * as tf from "@tensorflow/tfjs";
import type { Classifier, LossFn } from "./types";
import { lossAndGrad } from "./gradient";
import { projectLinf } from "./linf";

export interface AscentOptions {
  eps: number;
  stepSize: number;
  steps: number;
  /**
   * Sees every evaluated iterate x_k (k = 0..steps−1) with its logits and loss, before the step
   * from it; return true to stop early. The final iterate x_steps is returned unevaluated.
   */
  onIterate?: (xk: tf.Tensor4D, logits: tf.Tensor2D, loss: tf.Tensor1D) => boolean;
}

export interface AscentAsyncOptions extends Omit<AscentOptions, "onIterate"> {
  /** As AscentOptions.onIterate, for a stop test that reads the device (webgpu: async only). */
  onIterate: (xk: tf.Tensor4D, logits: tf.Tensor2D, loss: tf.Tensor1D) => Promise<boolean>;
}

/**
 * L-inf projected signed-gradient ascent (Madry et al. 2018, Eq. 2):
 *   x_{k+1} = Π_{B_eps(x) ∩ [0,1]}( x_k + α · sign(∇_x ℓ(f(x_k), y)) ).
 * Shared by PGD, CW-inf and the TRADES/MART inner maximization. `start` stays the caller's.
 */
export function signedGradientAscent(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  start: tf.Tensor4D,
  loss: LossFn,
  opts: AscentOptions,
): tf.Tensor4D {
  let xAdv = tf.clone(start);
  for (let k = 0; k < opts.steps; k++) {
    const g = lossAndGrad(model, xAdv, y, loss);
    const stop = opts.onIterate?.(xAdv, g.logits, g.loss) ?? false;
    const next = stop ? xAdv : ascentStep(xAdv, g.grad, x, opts);
    g.logits.dispose();
    g.loss.dispose();
    g.grad.dispose();
    if (stop) return xAdv;
    xAdv.dispose();
    xAdv = next;
  }
  return xAdv;
}

/** signedGradientAscent with an async stop test; the same iterates, step for step. */
export async function signedGradientAscentAsync(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  start: tf.Tensor4D,
  loss: LossFn,
  opts: AscentAsyncOptions,
): Promise<tf.Tensor4D> {
  let xAdv = tf.clone(start);
  for (let k = 0; k < opts.steps; k++) {
    const g = lossAndGrad(model, xAdv, y, loss);
    const stop = await opts.onIterate(xAdv, g.logits, g.loss);
    const next = stop ? xAdv : ascentStep(xAdv, g.grad, x, opts);
    tf.dispose([g.logits, g.loss, g.grad]);
    if (stop) return xAdv;
    xAdv.dispose();
    xAdv = next;
  }
  return xAdv;
}

/** x_{k+1} = Π(x_k + α · sign(g)). */
function ascentStep(xAdv: tf.Tensor4D, grad: tf.Tensor4D, x: tf.Tensor4D, opts: { stepSize: number; eps: number }): tf.Tensor4D {
  return tf.tidy(() => projectLinf(tf.add(xAdv, tf.mul(tf.sign(grad), opts.stepSize)) as tf.Tensor4D, x, opts.eps));
}
