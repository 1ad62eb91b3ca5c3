/**
 * The TRADES inner maximization (Zhang et al., "Theoretically Principled Trade-off between
 * Robustness and Accuracy", ICML 2019, Eq. 5; also MART's KL term):
 *   x' = argmax_{x' ∈ B_eps(x) ∩ [0,1]} KL( p(x) ‖ p(x') ),
 * by signed-gradient ascent started at x + 0.001·N(0, 1) (the reference code's start; the
 * gradient of KL at x' = x is exactly zero, so a tiny perturbation is needed). Labels are not
 * used. Defaults: step eps/4 (2/255 at 8/255), 10 steps; returns the final iterate, as the
 * reference implementation does. Guarantee: x' ∈ B_eps(x) ∩ [0,1] (up to float32 rounding).
 */
import * as tf from "@tensorflow/tfjs";
import type { Classifier, LossFn } from "./types";
import type { Rng } from "../rng";
import { klDivergence } from "./losses";
import { checkAttackInputs, projectLinf } from "./linf";
import { signedGradientAscent } from "./ascent";

export interface PgdTradesOptions {
  /** L-inf radius in [0,1] pixel units, e.g. 8/255. */
  eps: number;
  /** Step α; default eps/4 (2/255 at 8/255). */
  stepSize?: number;
  /** Iterations; default 10. */
  steps?: number;
  /** Seeded stream for the Gaussian start. */
  rng: Rng;
  /** Std of the Gaussian start; default 0.001 (reference code). */
  startStd?: number;
}

export function pgdTrades(model: Classifier, x: tf.Tensor4D, opts: PgdTradesOptions): tf.Tensor4D {
  checkAttackInputs("pgdTrades", x, undefined, opts.eps);
  const { eps, rng } = opts;
  const stepSize = opts.stepSize ?? eps / 4;
  const steps = opts.steps ?? 10;
  const n = x.size;
  // p(x) is a constant target: the gradient is taken w.r.t. x' only.
  const cleanLogits = tf.tidy(() => model(x));
  const kl: LossFn = (logits) => klDivergence(cleanLogits, logits);
  const start = tf.tidy(() =>
    projectLinf(tf.add(x, tf.tensor(rng.fillNormal(n, opts.startStd ?? 0.001), x.shape)) as tf.Tensor4D, x, eps),
  );
  const unusedLabels = tf.zeros([x.shape[0]], "int32") as tf.Tensor1D;
  const out = signedGradientAscent(model, x, unusedLabels, start, kl, { eps, stepSize, steps });
  tf.dispose([cleanLogits, start, unusedLabels]);
  return out;
}
