import * as tf from "@tensorflow/tfjs";
import { LAYERNORM_WASM_BASE64 } from "./kernels/layernormWasm";
import { heapOffset, kernelExports, type WasmKernelBackend } from "./heapKernels";

/**
 * LayerNorm forward and backward as two SIMD kernels over the wasm heap (kernels/layernorm.wat).
 * The op-by-op form is ~9 elementwise passes forward and ~10 backward, each a separate wasm call
 * and output allocation; these read each row two or three times and write only what the other
 * pass needs (x̂, 1/σ per row). fusedOps.ts uses them on wasm.
 */
export const LAYER_NORM = "HyperatLayerNorm";
export const LAYER_NORM_GRAD = "HyperatLayerNormGrad";

type Forward = (x: number, g: number, b: number, y: number, xhat: number, rstd: number, rows: number, d: number, eps: number) => void;
type Backward = (dy: number, xhat: number, rstd: number, g: number, dx: number, dg: number, db: number, rows: number, d: number) => void;

let registered = false;

function checkRows(kernel: string, x: tf.TensorInfo, gamma: tf.TensorInfo): { rows: number; d: number } {
  const d = x.shape[x.shape.length - 1];
  if (x.dtype !== "float32" || gamma.dtype !== "float32" || gamma.shape.length !== 1 || gamma.shape[0] !== d) {
    throw new Error(`${kernel}: expected float32 x [..., ${d}] and gamma [${d}], got ${x.dtype} [${x.shape}] and ${gamma.dtype} [${gamma.shape}]`);
  }
  return { rows: tf.util.sizeFromShape(x.shape) / Math.max(1, d), d };
}

function forwardKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = args.backend as WasmKernelBackend;
  const { x, gamma, beta } = args.inputs as { x: tf.TensorInfo; gamma: tf.TensorInfo; beta: tf.TensorInfo };
  const { eps } = args.attrs as unknown as { eps: number };
  const { rows, d } = checkRows(LAYER_NORM, x, gamma);
  const y = backend.makeOutput(x.shape, "float32") as tf.TensorInfo;
  const xhat = backend.makeOutput(x.shape, "float32") as tf.TensorInfo;
  const rstd = backend.makeOutput([...x.shape.slice(0, -1), 1], "float32") as tf.TensorInfo;
  const at = (t: tf.TensorInfo) => heapOffset(backend, t);
  (kernelExports(backend, LAYERNORM_WASM_BASE64).ln_forward as Forward)(at(x), at(gamma), at(beta), at(y), at(xhat), at(rstd), rows, d, eps);
  return [y, xhat, rstd];
}

function backwardKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const backend = args.backend as WasmKernelBackend;
  const { dy, xhat, rstd, gamma } = args.inputs as { dy: tf.TensorInfo; xhat: tf.TensorInfo; rstd: tf.TensorInfo; gamma: tf.TensorInfo };
  const { rows, d } = checkRows(LAYER_NORM_GRAD, dy, gamma);
  const dx = backend.makeOutput(dy.shape, "float32") as tf.TensorInfo;
  const dgamma = backend.makeOutput([d], "float32") as tf.TensorInfo;
  const dbeta = backend.makeOutput([d], "float32") as tf.TensorInfo;
  const at = (t: tf.TensorInfo) => heapOffset(backend, t);
  // The kernel accumulates the column sums: start them at zero (fresh heap memory is not).
  const heap = backend.wasm.HEAPF32;
  heap.fill(0, at(dgamma) / 4, at(dgamma) / 4 + d);
  heap.fill(0, at(dbeta) / 4, at(dbeta) / 4 + d);
  (kernelExports(backend, LAYERNORM_WASM_BASE64).ln_backward as Backward)(at(dy), at(xhat), at(rstd), at(gamma), at(dx), at(dgamma), at(dbeta), rows, d);
  return [dx, dgamma, dbeta];
}

/** Registers both kernels for wasm once (installWasmFastPaths, fastPaths.ts). */
export function registerWasmLayerNorm(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: LAYER_NORM, backendName: "wasm", kernelFunc: forwardKernel as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: LAYER_NORM_GRAD, backendName: "wasm", kernelFunc: backwardKernel as unknown as tf.KernelFunc });
}

/** True on wasm once backend selection installed both kernels. */
export function wasmLayerNormAvailable(): boolean {
  return registered && tf.getBackend() === "wasm";
}

/** `[y, x̂, 1/σ]` of LayerNorm over the last axis (call `wasmLayerNormAvailable` first). */
export function layerNormForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** `[dx, dγ, dβ]` from the forward pass's x̂ and 1/σ. */
export function layerNormBackward(dy: tf.Tensor, xhat: tf.Tensor, rstd: tf.Tensor, gamma: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, xhat, rstd, gamma }, {}) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
}
