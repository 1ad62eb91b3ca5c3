/**
 * CW-inf: PGD on the Carlini–Wagner margin loss max_{k≠y} z_k − z_y (Carlini & Wagner, S&P 2017;
 * the L-inf "CW∞" evaluation of TRADES/MART papers). Margins are not squashed by a softmax, so it
 * catches models whose CE saturates. Defaults: step eps/4 (2/255 at 8/255), 20 steps, random
 * start, 1 restart. Guarantees as PGD with keep "best": x' ∈ B_eps(x) ∩ [0,1], never less
 * adversarial than x.
 */
import type * as tf from "@tensorflow/tfjs";
import type { Classifier } from "./types";
import type { AttackRng } from "./attackRng";
import { pgd } from "./pgd";

export interface CwOptions {
  eps: number;
  stepSize?: number;
  /** default 20 */
  steps?: number;
  restarts?: number;
  rng: AttackRng;
  stopWhenAllFooled?: boolean;
}

export function cwInf(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: CwOptions): Promise<tf.Tensor4D> {
  return pgd(model, x, y, { ...opts, steps: opts.steps ?? 20, loss: "margin", randomStart: true, keep: "best" });
}
