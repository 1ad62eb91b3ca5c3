import * as tf from "@tensorflow/tfjs";
import { overrideKernel } from "../kernelOverride";
import { heapOffset, type WasmKernelBackend } from "./heapKernels";

/**
 * wasm's SplitV runs one strided Slice per piece, element by element: splitting the depth-6
 * ViT's q/k/v (`[3, B, T, D]` along axis 0, three contiguous blocks) took ~12 ms a call, about a
 * tenth of an attack iteration's non-matmul time. Every piece is a run of contiguous blocks — one
 * block per index of the axes before `axis` — so this kernel copies them with the heap's native
 * `copyWithin`. Pieces with tiny blocks (many short copies) keep the original kernel.
 */

/** Below this many elements per copied block, per-block calls cost more than the slice loop. */
const MIN_BLOCK = 64;
let registered = false;

function splitContiguous(
  args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap },
  fallback: tf.KernelFunc,
): tf.TensorInfo[] {
  const backend = args.backend as WasmKernelBackend;
  const x = (args.inputs as { x: tf.TensorInfo }).x;
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  if ((x.dtype !== "float32" && x.dtype !== "int32") || Math.min(...sizes) * inner < MIN_BLOCK) {
    return fallback(args as never) as tf.TensorInfo[];
  }
  const rowLen = x.shape[ax] * inner;
  const outs = sizes.map((s) => backend.makeOutput([...x.shape.slice(0, ax), s, ...x.shape.slice(ax + 1)], x.dtype) as tf.TensorInfo);
  // Read the heap after allocating: an allocation may grow (and replace) its buffer.
  const heap = backend.wasm.HEAP32; // 4-byte elements either way: copies are bit-exact
  const src = heapOffset(backend, x) / 4;
  let start = 0;
  sizes.forEach((s, p) => {
    const dst = heapOffset(backend, outs[p]) / 4;
    const block = s * inner;
    for (let o = 0; o < outer; o++) {
      const from = src + o * rowLen + start * inner;
      heap.copyWithin(dst + o * block, from, from + block);
    }
    start += s;
  });
  return outs;
}

/** Replaces wasm's SplitV with the block-copy kernel; idempotent; no-op without wasm. */
export function registerWasmFastSplit(): void {
  if (registered) return;
  registered = overrideKernel(tf.SplitV, "wasm", (stock) => (args) => splitContiguous(args as never, stock.kernelFunc)) !== undefined;
}
