import * as tf from "@tensorflow/tfjs";
import { wasmBlas } from "./blasMatMul";

/**
 * A batched matmul `[N, M, K] × [N, K, N2] → [N, M, N2]` that runs every batch item on
 * XNNPACK. tfjs-backend-wasm takes its fast XNNPACK path only for batch size 1 with no transpose
 * flags; any batch goes to a scalar loop at 1–3 GFLOP/s (README.md, "Compute backends"),
 * and splitting into per-item tensors through the public API costs more than it saves. Here we
 * register, for each item, throw-away tensor ids that *view* the item's slice of the wasm heap
 * and call the backend's own BatchMatMul entry point on them, so one kernel call makes N
 * XNNPACK calls and no JS tensors.
 *
 * Only the wasm backend gets this kernel; other backends use `tf.matMul` (see `batchMatMul`).
 */
export const FAST_BATCH_MATMUL = "HyperatFastBatchMatMul";

/** The part of tfjs-backend-wasm's emscripten module and backend that this kernel uses. */
interface WasmModule {
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
}
interface WasmBackendView {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

let wasmCall: ((...args: unknown[]) => void) | undefined;
let registered = false;

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

function fastBatchMatMulWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const backend = args.backend as WasmBackendView;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const [n, m, k] = a.shape;
  const n2 = b.shape[2];
  const out = backend.makeOutput([n, m, n2], "float32");
  const offA = backend.dataIdMap.get(a.dataId).memoryOffset;
  const offB = backend.dataIdMap.get(b.dataId).memoryOffset;
  const offO = backend.dataIdMap.get(out.dataId).memoryOffset;
  wasmCall ??= backend.wasm.cwrap("BatchMatMul", null, [
    "number", "array", "number", "number", "array", "number", "number", "number", "number",
  ]);
  const aShape = shapeBytes([1, m, k]);
  const bShape = shapeBytes([1, k, n2]);
  const { registerTensor, disposeData } = backend.wasm.tfjs;
  for (let i = 0; i < n; i++) {
    // Fresh ids per item: XNNPACK caches an operator (with packed weights) per `b` id and frees
    // it when that id is disposed, so reusing an id would reuse stale packed weights.
    const ia = backend.dataIdNextNumber++;
    const ib = backend.dataIdNextNumber++;
    const io = backend.dataIdNextNumber++;
    registerTensor(ia, m * k, offA + i * m * k * 4);
    registerTensor(ib, k * n2, offB + i * k * n2 * 4);
    registerTensor(io, m * n2, offO + i * m * n2 * 4);
    wasmCall(ia, aShape, 3, ib, bShape, 3, 0, 0, io);
    disposeData(ia);
    disposeData(ib);
    disposeData(io);
  }
  return out;
}

/** Registers the kernel for wasm and its gradient once (installWasmFastPaths, fastPaths.ts). */
export function registerFastBatchMatMul(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: FAST_BATCH_MATMUL,
    backendName: "wasm",
    kernelFunc: fastBatchMatMulWasm as unknown as tf.KernelFunc,
  });
  // C = A B  ⇒  dA = dC Bᵀ,  dB = Aᵀ dC — both again un-flagged batched products.
  tf.registerGradient({
    kernelName: FAST_BATCH_MATMUL,
    inputsToSave: ["a", "b"],
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [a, b] = saved as tf.Tensor3D[];
      const g = dy as tf.Tensor3D;
      return {
        a: () => batchMatMul(g, tf.transpose(b, [0, 2, 1])),
        b: () => batchMatMul(tf.transpose(a, [0, 2, 1]), g),
      };
    },
  });
}

/**
 * `[N, M, K] × [N, K, P] → [N, M, P]`, no transpose flags. On wasm every item runs on XNNPACK;
 * elsewhere this is `tf.matMul`. Differentiable on both.
 */
export function batchMatMul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1]) {
    throw new Error(`batchMatMul: shapes [${a.shape}] and [${b.shape}] are not [N,M,K] and [N,K,P]`);
  }
  // A native BLAS behind wasm's matMul already runs batches well (wasmBlasMatMul.ts).
  // Without the kernel (fast paths off when wasm was chosen) the stock product runs.
  if (tf.getBackend() !== "wasm" || wasmBlas() || !registered) return tf.matMul(a, b);
  return tf.engine().runKernel(FAST_BATCH_MATMUL, { a, b }, {}) as tf.Tensor3D;
}
