import * as tf from "@tensorflow/tfjs";
import { geluWithDerivative, wasmGeluAvailable } from "../backend/wasm/gelu";
import { layerNormBackward, layerNormForward, wasmLayerNormAvailable } from "../backend/wasm/layerNorm";
import { webgpuLayerNormAvailable, webgpuLayerNormBackward, webgpuLayerNormForward } from "../backend/webgpuKernels/layerNorm";
import { webgpuGelu, webgpuGeluAvailable, webgpuGeluGrad } from "../backend/webgpuKernels/gelu";

/**
 * LayerNorm and exact GELU with hand-written gradients. The forward math equals the stock ops;
 * the backward pass replaces tfjs' op-by-op chain (which on wasm also copies tensors through
 * Cast/Identity for every product rule) with the closed forms below, a few elementwise passes
 * fewer and no copies. Tested against the stock ops in test/core/model/fastpath.test.ts.
 */

/**
 * LayerNorm over the last axis (Ba et al. 2016): y = γ · x̂ + β, x̂ = (x − μ) / √(σ² + eps).
 * Gradient (g = dy · γ, means over the last axis):
 *   dx = (g − mean(g) − x̂ · mean(g · x̂)) / √(σ² + eps),  dγ = Σ dy · x̂,  dβ = Σ dy.
 */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  if (x.dtype === "float32" && gamma.rank === 1 && wasmLayerNormAvailable()) {
    // On wasm: the same math as two SIMD kernels (backend/wasm/layerNorm.ts).
    const op = tf.customGrad((xi, g, b, save) => {
      const [y, xhat, rstd] = layerNormForward(xi as tf.Tensor, g as tf.Tensor, b as tf.Tensor, eps);
      (save as tf.GradSaveFunc)([xhat, rstd, g as tf.Tensor]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layerNormBackward(dy, saved[0], saved[1], saved[2]),
      };
    });
    return op(x, gamma, beta);
  }
  if (x.dtype === "float32" && gamma.rank === 1 && webgpuLayerNormAvailable()) {
    // On webgpu: five WGSL dispatches for forward + backward (backend/webgpuKernels/layerNorm.ts).
    const op = tf.customGrad((xi, g, b, save) => {
      const [y, stats] = webgpuLayerNormForward(xi as tf.Tensor, g as tf.Tensor, b as tf.Tensor, eps);
      (save as tf.GradSaveFunc)([xi as tf.Tensor, stats, g as tf.Tensor]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => webgpuLayerNormBackward(dy, saved[0], saved[1], saved[2]),
      };
    });
    return op(x, gamma, beta);
  }
  const op = tf.customGrad((xi, g, b, save) => {
    const input = xi as tf.Tensor;
    const mean = tf.mean(input, -1, true);
    const centered = tf.sub(input, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps));
    const xhat = tf.mul(centered, rstd);
    (save as tf.GradSaveFunc)([xhat, rstd, g as tf.Tensor]);
    return {
      value: tf.add(tf.mul(xhat, g as tf.Tensor), b as tf.Tensor),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gm] = saved;
        const rows = dy.shape.slice(0, -1).map((_, i) => i); // every axis but the last
        const gy = tf.mul(dy, gm);
        const inner = tf.sub(tf.sub(gy, tf.mean(gy, -1, true)), tf.mul(xh, tf.mean(tf.mul(gy, xh), -1, true)));
        return [tf.mul(inner, rs), tf.sum(tf.mul(dy, xh), rows), tf.sum(dy, rows)];
      },
    };
  });
  return op(x, gamma, beta);
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * Exact GELU (Hendrycks & Gimpel 2016): y = x · Φ(x), Φ(x) = ½(1 + erf(x/√2)).
 * Gradient: dx = dy · (Φ(x) + x · φ(x)), φ(x) = exp(−x²/2) / √(2π).
 * On wasm one SIMD kernel computes y and the derivative together (backend/wasm/gelu.ts); on
 * webgpu one WGSL dispatch each way (backend/webgpuKernels/gelu.ts).
 */
export function fusedGelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype === "float32" && wasmGeluAvailable()) {
    const op = tf.customGrad((xi, save) => {
      const [y, d] = geluWithDerivative(xi as tf.Tensor);
      (save as tf.GradSaveFunc)([d]);
      return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0])] };
    });
    return op(x);
  }
  if (x.dtype === "float32" && webgpuGeluAvailable()) {
    const op = tf.customGrad((xi, save) => {
      (save as tf.GradSaveFunc)([xi as tf.Tensor]);
      return { value: webgpuGelu(xi as tf.Tensor), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [webgpuGeluGrad(dy, saved[0])] };
    });
    return op(x);
  }
  const op = tf.customGrad((xi, save) => {
    const input = xi as tf.Tensor;
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(input, Math.SQRT1_2)), 1), 0.5);
    (save as tf.GradSaveFunc)([input, cdf]);
    return {
      value: tf.mul(input, cdf),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, phi] = saved;
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(xs), -0.5)), INV_SQRT_2PI);
        return [tf.mul(dy, tf.add(phi, tf.mul(xs, pdf)))];
      },
    };
  });
  return op(x);
}
