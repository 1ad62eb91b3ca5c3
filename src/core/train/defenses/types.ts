import type * as tf from "@tensorflow/tfjs";
import type { Classifier } from "../../model/vit";
import type { Rng } from "../../rng";

/** The inner attack's settings: L-inf ball in [0,1] pixel space. */
export interface InnerAttack {
  eps: number;
  stepSize: number;
  steps: number;
  rng: Rng;
}

export interface DefenseLoss {
  /** Scalar training loss (mean over the batch). */
  loss: tf.Scalar;
  /** Logits on the adversarial batch (for batch accuracy). */
  logitsAdv: tf.Tensor2D;
  /** Logits on the clean batch when the loss needs them anyway. */
  logitsClean?: tf.Tensor2D;
}

/**
 * One defense method = one HyperAT task: an inner maximization that crafts x' against the current
 * model, and an outer loss the tuned parameters minimize. Adding a defense is one module
 * implementing this plus one line in registry.ts.
 */
export interface Defense {
  readonly name: string;
  /** Paper the method comes from. */
  readonly citation: string;
  /** Adversarial examples for (x, y) against `model` (no parameter gradients are taken). */
  craft(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, attack: InnerAttack): tf.Tensor4D;
  /** The outer loss; runs inside the gradient closure, so `model` carries the trainable tensors. */
  loss(model: Classifier, x: tf.Tensor4D, xAdv: tf.Tensor4D, y: tf.Tensor1D): DefenseLoss;
}
