import * as tf from "@tensorflow/tfjs";
import { rowProgram, rowsAndCols, rowUniforms, type WebgpuKernelBackend } from "./program";

/**
 * The softmax gradient over the last axis as one WGSL dispatch (one workgroup per row) instead
 * of tfjs' Multiply, Sum, Multiply, Sub: with y = softmax(x),
 *   dx = dy · y − y · Σ_j dy_j y_j,
 * the same expression as tfjs-core's Softmax gradient (softmax_grad.ts), so it matches to float
 * rounding. The forward pass stays tfjs' own one-dispatch Softmax kernel. Installed as the
 * Softmax gradient itself, so every softmax (attention, MART's probabilities) gets it on webgpu;
 * on other backends, or over another axis, the gradient is tfjs' own expression unchanged.
 */
export const WEBGPU_SOFTMAX_GRAD = "HyperatWebgpuSoftmaxGrad";

function softmaxGradKernel({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const { dy, y } = inputs as { dy: tf.TensorInfo; y: tf.TensorInfo };
  if (dy.dtype !== "float32" || y.dtype !== "float32" || dy.shape.join() !== y.shape.join()) {
    throw new Error(`${WEBGPU_SOFTMAX_GRAD}: expected float32 dy and y of one shape, got ${dy.dtype} [${dy.shape}] and ${y.dtype} [${y.shape}]`);
  }
  const { rows, cols } = rowsAndCols(y.shape);
  const program = rowProgram("hyperat_softmax_grad", ["dy", "probs"], y.shape, rows, cols, `
        var s = 0.0;
        if (live) { for (var c = tid; c < cols; c = c + WG) { s = s + dy[base + c] * probs[base + c]; } }
        sumA[tid] = s;
        reduceSums(tid);
        let total = sumA[0];
        if (live) {
          for (var c = tid; c < cols; c = c + WG) {
            let p = probs[base + c];
            setOutputAtIndex(base + c, dy[base + c] * p - total * p);
          }
        }`);
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [dy, y], "float32", rowUniforms(rows, cols));
}

let registered = false;

/** Registers the kernel for webgpu and the Softmax gradient that uses it, once (fastPaths.ts). */
export function registerWebgpuSoftmaxGrad(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: WEBGPU_SOFTMAX_GRAD, backendName: "webgpu", kernelFunc: softmaxGradKernel as unknown as tf.KernelFunc });
  tf.registerGradient({
    kernelName: tf.Softmax,
    outputsToSave: [true],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [y] = saved;
      const g = dy as tf.Tensor;
      const { dim } = attrs as unknown as { dim: number };
      if (webgpuSoftmaxGradAvailable() && (dim === -1 || dim === y.rank - 1) && y.dtype === "float32") {
        return { logits: () => webgpuSoftmaxGrad(g, y) };
      }
      const dyTimesY = tf.mul(g, y); // tfjs-core's own Softmax gradient (gradients/Softmax_grad.ts)
      return { logits: () => tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y)) };
    },
  });
}

/** True on webgpu once backend selection installed the kernel. */
export function webgpuSoftmaxGradAvailable(): boolean {
  return registered && tf.getBackend() === "webgpu";
}

export function webgpuSoftmaxGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(WEBGPU_SOFTMAX_GRAD, { dy, y }, {}) as tf.Tensor;
}
