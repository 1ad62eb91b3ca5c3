import type * as tf from "@tensorflow/tfjs";
import type { Classifier } from "../model/vit";

export type { Classifier };

/**
 * A per-sample objective an attack *maximizes*: logits `[B, K]` and labels `[B]` (int32) → `[B]`.
 * Built-in ones live in losses.ts; a custom one lets training code reuse PGD on its own loss.
 */
export type LossFn = (logits: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor1D;
