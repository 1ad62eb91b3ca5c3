// Tiny hand-made classifiers for attack tests: attacks only see `(x) => logits`, so no ViT needed.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../../src/core/rng";
import type { Classifier } from "../../../src/core/attacks/types";

export const H = 4;
export const W = 4;
export const C = 3;
export const D = H * W * C;

/** Keeps model weights alive across tests; call dispose() in `after`. */
export interface ToyModel {
  model: Classifier;
  dispose(): void;
}

/** logits = flatten(x) · Wt + b, with Wt ~ N(0, scale²) from a seeded stream. */
export function linearModel(classes: number, seed = 1, scale = 1): ToyModel {
  const rng = Rng.fromSeed(seed, "toy-linear");
  const w = tf.tensor2d(rng.fillNormal(D * classes, scale), [D, classes]);
  const b = tf.tensor1d(rng.fillNormal(classes, 0.1));
  return {
    model: (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], D]), w), b) as tf.Tensor2D),
    dispose: () => tf.dispose([w, b]),
  };
}

/** Two-layer tanh MLP. */
export function mlpModel(classes: number, hidden = 16, seed = 2): ToyModel {
  const rng = Rng.fromSeed(seed, "toy-mlp");
  const w1 = tf.tensor2d(rng.fillNormal(D * hidden, 1), [D, hidden]);
  const w2 = tf.tensor2d(rng.fillNormal(hidden * classes, 1), [hidden, classes]);
  return {
    model: (x) =>
      tf.tidy(() => tf.matMul(tf.tanh(tf.matMul(tf.reshape(x, [x.shape[0], D]), w1)), w2) as tf.Tensor2D),
    dispose: () => tf.dispose([w1, w2]),
  };
}

/** logits = W2 · sin(ω · W1 x): an oscillating loss landscape where a fixed PGD step overshoots. */
export function sineModel(classes: number, omega = 5, hidden = 32, seed = 9): ToyModel {
  const rng = Rng.fromSeed(seed, "toy-sine");
  const w1 = tf.tensor2d(rng.fillNormal(D * hidden, 1), [D, hidden]);
  const w2 = tf.tensor2d(rng.fillNormal(hidden * classes, 1), [hidden, classes]);
  return {
    model: (x) =>
      tf.tidy(() => tf.matMul(tf.sin(tf.mul(tf.matMul(tf.reshape(x, [x.shape[0], D]), w1), omega)), w2) as tf.Tensor2D),
    dispose: () => tf.dispose([w1, w2]),
  };
}

/**
 * A linear model behind an input quantizer round(x·levels)/levels: its input gradient is exactly
 * zero everywhere (tfjs' Round gradient is 0), the textbook case of gradient masking.
 */
export function quantizedModel(inner: ToyModel, levels = 4): ToyModel {
  return {
    model: (x) => tf.tidy(() => inner.model(tf.div(tf.round(tf.mul(x, levels)), levels) as tf.Tensor4D)),
    dispose: () => inner.dispose(),
  };
}

/** n images with seeded uniform pixels in [0,1]. */
export function randomImages(n: number, seed = 3): tf.Tensor4D {
  const rng = Rng.fromSeed(seed, "toy-images");
  return tf.tensor4d(rng.fillUniform(n * D, 0, 1), [n, H, W, C]);
}

/** The model's own predictions as labels (so every clean point starts correctly classified). */
export function predictedLabels(model: Classifier, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.argMax(model(x), 1) as tf.Tensor1D);
}

/** max |a − b| over all elements. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

export function range01(t: tf.Tensor): [number, number] {
  return tf.tidy(() => [tf.min(t).dataSync()[0], tf.max(t).dataSync()[0]]);
}

/** Per-sample misclassification as a JS array. */
export function fooledMask(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): boolean[] {
  return tf.tidy(() => Array.from(tf.notEqual(tf.argMax(model(x), 1), y).dataSync()).map((v) => v === 1));
}

/** Asserts x' ∈ B_eps(x) ∩ [0,1] up to float32 rounding. */
export function inBall(xAdv: tf.Tensor4D, x: tf.Tensor4D): { linf: number; lo: number; hi: number } {
  const linf = maxAbsDiff(xAdv, x);
  const [lo, hi] = range01(xAdv);
  return { linf, lo, hi };
}

export const EPS = 8 / 255;
export const FLOAT_TOL = 1e-6;
