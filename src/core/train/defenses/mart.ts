import * as tf from "@tensorflow/tfjs";
import { craftPgdCe } from "./pgdAt";
import { crossEntropy, klDivergence } from "../../attacks/losses";
import { Defense } from "./types";

/**
 * MART — Wang et al., "Improving Adversarial Robustness Requires Revisiting Misclassified
 * Examples", ICLR 2020, Eq. 8. Inner: PGD on CE. Outer:
 *   BCE(p(x'), y) + β · mean_i KL(p(x_i) ‖ p(x'_i)) · (1 − p_y(x_i)),
 *   BCE = −log p'_y − log(1 − max_{k≠y} p'_k)   (the reference code's CE + NLL(log(1.0001 − p')) form).
 */
export function mart(beta: number): Defense {
  return {
    name: "mart",
    citation: "Wang et al., ICLR 2020",
    craft: craftPgdCe,
    loss: (model, x, xAdv, y) => {
      const logitsClean = model(x);
      const logitsAdv = model(xAdv);
      const K = logitsAdv.shape[1];
      const onehot = tf.oneHot(y, K);
      const pAdv = tf.softmax(logitsAdv);
      // Largest wrong-class probability; the true class is pushed below every other entry.
      const maxWrong = tf.max(tf.sub(pAdv, tf.mul(onehot, 2)), 1);
      const bce = tf.add(crossEntropy(logitsAdv, y), tf.neg(tf.log(tf.sub(1.0001, maxWrong))));
      const pTrue = tf.sum(tf.mul(tf.softmax(logitsClean), onehot), 1);
      const robust = tf.mul(klDivergence(logitsClean, logitsAdv), tf.sub(1.0000001, pTrue));
      return { loss: tf.add(tf.mean(bce), tf.mul(tf.mean(robust), beta)) as tf.Scalar, logitsAdv, logitsClean };
    },
  };
}
