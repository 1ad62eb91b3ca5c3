import { registerWasmZeroCopy } from "./zeroCopyIdentity";
import { registerWasmFastSplit } from "./contiguousSplit";
import { registerWasmGelu } from "./gelu";
import { registerWasmLayerNorm } from "./layerNorm";
import { registerFastBatchMatMul } from "./batchMatMulPerItem";

let installed = false;

/**
 * Registers every wasm fast kernel once: buffer-sharing Identity/Cast (zeroCopyIdentity.ts),
 * block-copy SplitV (contiguousSplit.ts), the SIMD GELU and LayerNorm kernels (gelu.ts,
 * layerNorm.ts) and the per-item XNNPACK batched matmul (batchMatMulPerItem.ts). Backend
 * selection calls it when it chooses wasm (src/core/backend/select.ts); model code only asks
 * whether a kernel is there. Idempotent; needs the wasm backend module loaded (the overrides wrap
 * its stock kernels).
 */
export function installWasmFastPaths(): void {
  if (installed) return;
  installed = true;
  registerWasmZeroCopy();
  registerWasmFastSplit();
  registerWasmGelu();
  registerWasmLayerNorm();
  registerFastBatchMatMul();
}
