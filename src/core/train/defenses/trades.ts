import * as tf from "@tensorflow/tfjs";
import { pgdTrades } from "../../attacks/pgdTrades";
import { crossEntropy, klDivergence } from "../../attacks/losses";
import { Defense } from "./types";

/**
 * TRADES — Zhang et al., "Theoretically Principled Trade-off between Robustness and Accuracy",
 * ICML 2019, Eq. 5. Inner: PGD maximizing KL(p(x) ‖ p(x')) from x + 0.001·N(0,1).
 * Outer: CE(f(x), y) + β · mean_i KL(p(x_i) ‖ p(x'_i)).
 */
export function trades(beta: number): Defense {
  return {
    name: "trades",
    citation: "Zhang et al., ICML 2019",
    craft: (model, x, _y, a) => pgdTrades(model, x, { eps: a.eps, stepSize: a.stepSize, steps: a.steps, rng: a.rng }),
    loss: (model, x, xAdv, y) => {
      const logitsClean = model(x);
      const logitsAdv = model(xAdv);
      const natural = tf.mean(crossEntropy(logitsClean, y));
      const robust = tf.mean(klDivergence(logitsClean, logitsAdv));
      return { loss: tf.add(natural, tf.mul(robust, beta)) as tf.Scalar, logitsAdv, logitsClean };
    },
  };
}
