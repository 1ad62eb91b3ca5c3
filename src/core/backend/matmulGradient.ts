import * as tf from "@tensorflow/tfjs";

/**
 * Re-registers the BatchMatMul gradient so both products use explicit transposes and no
 * transpose flags. tfjs-backend-wasm sends matMul to XNNPACK only when transposeA/transposeB are
 * false and the batch is 1; tfjs-core's stock gradient always sets a flag, which made training
 * ~5x slower on wasm (../shared/recipes/compute-backends.md). The math is identical:
 *   C = op(A) op(B);  dA = dC op(B)^T (un-transposed back if A was), dB likewise.
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
      const t = (x: tf.Tensor) => tf.transpose(x, swapLast(x.rank));
      const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D);
      if (!transposeA && !transposeB) {
        return { a: () => mm(g, t(b)), b: () => mm(t(a), g) };
      } else if (!transposeA && transposeB) {
        return { a: () => mm(g, b), b: () => mm(t(g), a) };
      } else if (transposeA && !transposeB) {
        return { a: () => mm(b, t(g)), b: () => mm(a, g) };
      }
      return { a: () => mm(t(b), t(g)), b: () => mm(t(g), t(a)) };
    },
  });
}

function swapLast(rank: number): number[] {
  const perm = [...Array(rank).keys()];
  [perm[rank - 1], perm[rank - 2]] = [perm[rank - 2], perm[rank - 1]];
  return perm;
}
