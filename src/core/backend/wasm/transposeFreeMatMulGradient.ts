import * as tf from "@tensorflow/tfjs";
import { wasmBlas } from "./blasMatMul";

/**
 * Re-registers the BatchMatMul gradient so both products use explicit transposes and no
 * transpose flags. tfjs-backend-wasm sends matMul to XNNPACK only when transposeA/transposeB are
 * false and the batch is 1; tfjs-core's stock gradient always sets a flag, which made training
 * ~5x slower on wasm (README.md, "Compute backends"). The math is identical:
 *   C = op(A) op(B);  dA = dC op(B)^T (un-transposed back if A was), dB likewise.
 * Where a native BLAS runs wasm's matMul (wasmBlasMatMul.ts) flags cost nothing, so the products
 * keep them and skip the transpose copies.
 */
let registered = false;

export function registerFastMatMulGradient(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      if (wasmBlas() && tf.getBackend() === "wasm") return unbroadcast(flaggedGradient(a, b, g, transposeA, transposeB), a, b);
      const t = (x: tf.Tensor) => tf.transpose(x, swapLast(x.rank));
      const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D);
      if (!transposeA && !transposeB) {
        return unbroadcast({ a: () => mm(g, t(b)), b: () => mm(t(a), g) }, a, b);
      } else if (!transposeA && transposeB) {
        return unbroadcast({ a: () => mm(g, b), b: () => mm(t(g), a) }, a, b);
      } else if (transposeA && !transposeB) {
        return unbroadcast({ a: () => mm(b, t(g)), b: () => mm(a, g) }, a, b);
      }
      return unbroadcast({ a: () => mm(t(b), t(g)), b: () => mm(t(g), t(a)) }, a, b);
    },
  });
}

type Grads = { a: () => tf.Tensor; b: () => tf.Tensor };

/** A batch dimension that was broadcast (size 1 against N) gets its N per-item gradients summed. */
function unbroadcast(g: Grads, a: tf.Tensor, b: tf.Tensor): Grads {
  const toInputShape = (grad: tf.Tensor, shape: number[]): tf.Tensor => {
    if (tf.util.arraysEqual(grad.shape, shape)) return grad;
    const axes = tf.broadcast_util.getReductionAxes(shape.slice(0, -2), grad.shape.slice(0, -2));
    return tf.reshape(axes.length ? tf.sum(grad, axes) : grad, shape);
  };
  return { a: () => toInputShape(g.a(), a.shape), b: () => toInputShape(g.b(), b.shape) };
}

/** tfjs-core's own form: the same products, expressed with transpose flags. */
function flaggedGradient(a: tf.Tensor, b: tf.Tensor, g: tf.Tensor, transposeA: boolean, transposeB: boolean): Grads {
  const mm = (x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean) =>
    tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, tx, ty);
  if (!transposeA && !transposeB) return { a: () => mm(g, b, false, true), b: () => mm(a, g, true, false) };
  if (!transposeA && transposeB) return { a: () => mm(g, b, false, false), b: () => mm(g, a, true, false) };
  if (transposeA && !transposeB) return { a: () => mm(b, g, false, true), b: () => mm(a, g, false, false) };
  return { a: () => mm(b, g, true, true), b: () => mm(g, a, true, true) };
}

function swapLast(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 1], perm[rank - 2]] = [perm[rank - 2], perm[rank - 1]];
  return perm;
}
