/**
 * FGSM, L-inf (Goodfellow et al., "Explaining and Harnessing Adversarial Examples", ICLR 2015):
 * one step x' = Π_{[0,1]}( x + eps · sign(∇_x CE(f(x), y)) ). No randomness, no parameters but eps.
 * Guarantees: x' ∈ B_eps(x) ∩ [0,1]; per sample the more adversarial of {x, x'} is returned
 * (misclassified beats correct, then higher CE), so it never undoes an existing misclassification.
 */
import * as tf from "@tensorflow/tfjs";
import type { Classifier } from "./types";
import { crossEntropy } from "./losses";
import { lossAndGrad } from "./gradient";
import { checkAttackInputs, projectLinf } from "./linf";
import { BestPoint, evalLoss } from "./best";

export interface FgsmOptions {
  /** L-inf radius in [0,1] pixel units, e.g. 8/255. */
  eps: number;
}

export function fgsm(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: FgsmOptions): tf.Tensor4D {
  checkAttackInputs("fgsm", x, y, opts.eps);
  const g = lossAndGrad(model, x, y, crossEntropy);
  const best = BestPoint.start(x, g.logits, y, g.loss);
  const xAdv = tf.tidy(() => projectLinf(tf.add(x, tf.mul(tf.sign(g.grad), opts.eps)) as tf.Tensor4D, x, opts.eps));
  const end = evalLoss(model, xAdv, y, crossEntropy);
  best.update(xAdv, end.logits, y, end.loss);
  tf.dispose([g.logits, g.loss, g.grad, xAdv, end.logits, end.loss]);
  return best.take();
}
