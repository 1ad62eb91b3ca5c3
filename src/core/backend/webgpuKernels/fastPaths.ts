import { registerWebgpuGelu } from "./gelu";
import { registerWebgpuLayerNorm } from "./layerNorm";
import { registerWebgpuSoftmaxGrad } from "./softmaxGrad";

let installed = false;

/**
 * Registers the fused WGSL kernels once: LayerNorm (layerNorm.ts), GELU (gelu.ts) and the
 * softmax gradient (softmaxGrad.ts). Backend selection calls it when it activates webgpu with
 * the fast paths on (src/core/backend/select.ts), as it does installWasmFastPaths for wasm.
 * Registering touches no GPU: a kernel compiles its shader on first use.
 */
export function installWebgpuFastPaths(): void {
  if (installed) return;
  installed = true;
  registerWebgpuLayerNorm();
  registerWebgpuGelu();
  registerWebgpuSoftmaxGrad();
}
