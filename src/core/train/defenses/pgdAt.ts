import * as tf from "@tensorflow/tfjs";
import { pgdLastIterate } from "../../attacks/pgd";
import { crossEntropy } from "../../attacks/losses";
import { Defense } from "./types";

/**
 * PGD-AT — Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks",
 * ICLR 2018. Inner: PGD on CE from a uniform random start in the eps ball. Outer: CE(f(x'), y).
 */
/** PGD on CE from a uniform random start, last iterate: the inner attack PGD-AT and MART share. */
export const craftPgdCe: Defense["craft"] = (model, x, y, a) =>
  pgdLastIterate(model, x, y, { eps: a.eps, stepSize: a.stepSize, steps: a.steps, randomStart: true, restarts: 1, loss: "ce", rng: a.rng });

export function pgdAt(): Defense {
  return {
    name: "pgd-at",
    citation: "Madry et al., ICLR 2018",
    craft: craftPgdCe,
    loss: (model, _x, xAdv, y) => {
      const logitsAdv = model(xAdv);
      return { loss: tf.mean(crossEntropy(logitsAdv, y)) as tf.Scalar, logitsAdv };
    },
  };
}
