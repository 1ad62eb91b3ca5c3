import * as tf from "@tensorflow/tfjs";
import { Classifier } from "../../core/model/vit";
import { pgd } from "../../core/attacks/pgd";
import { Rng } from "../../core/rng";

/**
 * Clean and PGD robust accuracy of a classifier on (x, y), batched. Used for the cheap periodic
 * validation during training; the final evaluation uses the full evaluator.
 */
export function evaluateClassifier(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  attack: string,
  eps: number,
  seed: number,
  batchSize: number,
): { cleanAccuracy: number; robustAccuracy: Record<string, number>; worstCaseRobustAccuracy: number } {
  const m = /^pgd-(\d+)$/.exec(attack);
  if (!m) throw new Error(`validation attack must be "pgd-<steps>", got "${attack}"`);
  const steps = Number(m[1]);
  const rng = Rng.fromSeed(seed, "validation-attack");
  const n = x.shape[0];
  let clean = 0;
  let robust = 0;
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const [c, r] = tf.tidy(() => {
      const xb = tf.slice(x, [s, 0, 0, 0], [b, -1, -1, -1]);
      const yb = tf.slice(y, [s], [b]);
      const okClean = tf.equal(tf.argMax(model(xb), 1), yb);
      const xAdv = pgd(model, xb, yb, { eps, stepSize: eps / 4, steps, randomStart: true, restarts: 1, loss: "ce", rng });
      const okAdv = tf.logicalAnd(okClean, tf.equal(tf.argMax(model(xAdv), 1), yb));
      return [tf.sum(tf.cast(okClean, "int32")).dataSync()[0], tf.sum(tf.cast(okAdv, "int32")).dataSync()[0]];
    });
    clean += c;
    robust += r;
  }
  return { cleanAccuracy: clean / n, robustAccuracy: { [attack]: robust / n }, worstCaseRobustAccuracy: robust / n };
}
