/**
 * Pre-flight and post-hoc signs of gradient masking, after fra31/auto-attack `checks.py` and
 * Athalye, Carlini & Wagner, "Obfuscated Gradients Give a False Sense of Security" (ICML 2018).
 * Each check returns a warning sentence for the report, or undefined. They never fail a run:
 * a masked model is a finding, not an error.
 */
import * as tf from "@tensorflow/tfjs";
import { readScalar } from "../tensorRead";
import type { Classifier } from "../attacks/types";
import { crossEntropy } from "../attacks/losses";
import { lossAndGrad } from "../attacks/gradient";

/** Rows that are non-negative and sum to 1 look like softmax outputs, not logits. */
export function probabilityOutputsWarning(logits: Float32Array, rows: number, classes: number): string | undefined {
  if (rows === 0) return undefined;
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      const v = logits[r * classes + k];
      if (v < 0) return undefined;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return undefined;
  }
  return (
    "model outputs are non-negative and sum to 1 on every sample: they look like probabilities, not logits. " +
    "CE on softmax(probabilities) has tiny gradients (a sign of gradient masking); pass logits to the evaluator."
  );
}

/** Samples whose input gradient of CE is exactly zero (quantization, argmax, clipping layers). */
export async function zeroGradientWarning(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): Promise<string | undefined> {
  const g = lossAndGrad(model, x, y, crossEntropy);
  const zero = await readScalar(tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.max(tf.abs(g.grad), [1, 2, 3]), 0), "int32"))));
  tf.dispose([g.logits, g.loss, g.grad]);
  if (zero === 0) return undefined;
  return (
    `the input gradient of the loss is exactly zero on ${zero} of ${x.shape[0]} checked samples: ` +
    "gradient-based attacks cannot make progress there (gradient masking); trust the gradient-free attack (Square) more."
  );
}

/** Two identical forward passes that differ mean a randomized model: attacks need EOT. */
export async function randomnessWarning(model: Classifier, x: tf.Tensor4D): Promise<string | undefined> {
  const diff = await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(model(x), model(x))))));
  if (diff === 0) return undefined;
  return `two identical forward passes differ by up to ${diff.toExponential(2)}: the model is randomized, so single-sample gradients are unreliable (use EOT).`;
}

/** A score-based attack breaking points that every gradient attack before it could not. */
export function blackBoxBeatsWhiteBoxWarning(attack: string, broken: number, attacked: number, gradientAttacks: string[]): string | undefined {
  if (broken === 0 || gradientAttacks.length === 0) return undefined;
  return (
    `${attack} (gradient-free) broke ${broken} of ${attacked} samples that survived ${gradientAttacks.join(", ")}: ` +
    "a black-box attack beating white-box attacks is a sign of gradient masking; the gradient-based numbers overestimate robustness."
  );
}
