import * as tf from "@tensorflow/tfjs";

/**
 * Projection onto the L-inf ball of radius eps around x intersected with the image box [0,1].
 * Clipping to [x−eps, x+eps] and then to [0,1] is the exact Euclidean (and L-inf) projection
 * because both sets are boxes. Float32 rounding can leave |x'−x| a few ulps (≲1e-7) above eps.
 */
export function projectLinf(xAdv: tf.Tensor4D, x: tf.Tensor4D, eps: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.minimum(tf.maximum(xAdv, tf.sub(x, eps)), tf.add(x, eps)), 0, 1) as tf.Tensor4D);
}

/** Checks the shapes and eps every attack relies on; the message names the offending argument. */
export function checkAttackInputs(attack: string, x: tf.Tensor, y: tf.Tensor | undefined, eps: number): void {
  if (x.rank !== 4) throw new Error(`${attack}: x must be [B, H, W, C] pixels in [0,1], got shape [${x.shape}]`);
  if (y && (y.rank !== 1 || y.shape[0] !== x.shape[0])) {
    throw new Error(`${attack}: y must be [${x.shape[0]}] labels matching x [${x.shape}], got shape [${y.shape}]`);
  }
  if (y && y.dtype !== "int32") throw new Error(`${attack}: y must be int32 labels, got ${y.dtype}`);
  if (!(eps > 0 && eps <= 1)) throw new Error(`${attack}: eps must be in (0, 1] (pixel scale), got ${eps}`);
}

/** Uniform noise in [−eps, eps]^shape from the seeded stream (random start of Madry et al. 2018). */
export function uniformNoise(shape: number[], eps: number, rng: { fillUniform(n: number, lo: number, hi: number): Float32Array }): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillUniform(n, -eps, eps), shape, "float32");
}
