import * as tf from "@tensorflow/tfjs";
import { overrideKernel } from "../kernelOverride";
import * as os from "node:os";
import type { Blas } from "../blas";
import { heapOffset, type WasmKernelBackend } from "./heapKernels";

/**
 * Runs the wasm backend's `BatchMatMul` on a native BLAS, reading and writing the wasm heap in
 * place (no copies): tensors stay wasm tensors and every other kernel stays on wasm. Transpose
 * flags and batches go straight to sgemm, so neither the explicit-transpose gradient
 * (matmulGradient.ts) nor the per-item XNNPACK kernel (wasmBatchMatMul.ts) is needed while it is
 * active. Shapes the BLAS path does not cover (non-float32, mixed batch broadcasting) fall back to
 * the original XNNPACK kernel.
 */
let active: Blas | undefined;
let original: tf.KernelConfig | undefined;

/** The BLAS behind wasm's matMul, if one was installed in this process. */
export function wasmBlas(): Blas | undefined {
  return active;
}

function view(backend: WasmKernelBackend, t: tf.TensorInfo, heap: Float32Array, size: number): Float32Array {
  return new Float32Array(heap.buffer, heapOffset(backend, t), size);
}

function blasBatchMatMul(blas: Blas, args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }):
  tf.TensorInfo | undefined {
  const backend = args.backend as WasmKernelBackend;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) {
    throw new Error(`matMul: inner dimensions ${k} and ${kb} of shapes [${a.shape}] and [${b.shape}] ` +
      `(transposeA=${!!transposeA}, transposeB=${!!transposeB}) do not match`);
  }
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return undefined;
  const outShape = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB).concat([m, n]);
  const out = backend.makeOutput(outShape, "float32") as tf.TensorInfo;
  // Read the heap only after makeOutput: an allocation may grow (and so replace) the buffer.
  const heap = backend.wasm.HEAPF32;
  const batch = Math.max(batchA, batchB);
  const va = view(backend, a, heap, batchA * m * k);
  const vb = view(backend, b, heap, batchB * k * n);
  const vc = view(backend, out, heap, batch * m * n);
  if (m * n === 0) return out;
  if (k === 0) {
    vc.fill(0);
    return out;
  }
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  if (batchB === 1 && batchA > 1 && !transposeA) {
    // A's items are stacked rows: one [batch·m, k] product instead of `batch` small ones.
    blas.sgemm(false, !!transposeB, batch * m, n, k, va, lda, vb, ldb, vc, n);
    return out;
  }
  for (let i = 0; i < batch; i++) {
    const ai = batchA === 1 ? va : va.subarray(i * m * k, (i + 1) * m * k);
    const bi = batchB === 1 ? vb : vb.subarray(i * k * n, (i + 1) * k * n);
    blas.sgemm(!!transposeA, !!transposeB, m, n, k, ai, lda, bi, ldb, vc.subarray(i * m * n, (i + 1) * m * n), n);
  }
  return out;
}

/**
 * Replaces wasm's BatchMatMul with the BLAS one. Call after the wasm backend is registered;
 * idempotent; returns false where wasm is not registered in this process.
 */
export function installWasmBlas(blas: Blas): boolean {
  if (active) return true;
  const xnnpack = overrideKernel(tf.BatchMatMul, "wasm", (stock) => (args) => blasBatchMatMul(blas, args as never) ?? (stock.kernelFunc(args) as tf.TensorInfo));
  if (!xnnpack) return false;
  original = xnnpack;
  active = blas;
  return true;
}

/**
 * Threads per sgemm when `workers` threads compute at once in this process (data-parallel
 * helpers share the process's one BLAS): the cores divided between them, at least one.
 * HYPERAT_BLAS_THREADS, where set, wins.
 */
export function shareBlasThreads(workers: number): void {
  const forced = Number(process.env.HYPERAT_BLAS_THREADS);
  const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  const n = Number.isInteger(forced) && forced >= 1 ? forced : Math.max(1, Math.floor(cores / Math.max(1, workers)));
  active?.setThreads?.(n);
}

/** Puts wasm's own XNNPACK BatchMatMul back (benchmarks' `--no-blas`, tests). */
export function uninstallWasmBlas(): void {
  if (!active || !original) return;
  tf.unregisterKernel(tf.BatchMatMul, "wasm");
  tf.registerKernel(original);
  active = undefined;
}
