import { registerWebgpuGelu } from "./gelu";
import { registerWebgpuLayerNorm } from "./layerNorm";
import { registerWebgpuSoftmaxGrad } from "./softmaxGrad";
import { registerWebgpuLeadingSum } from "./columnSum";

let installed = false;

/**
 * Registers the fused WGSL kernels once: LayerNorm (layerNorm.ts), GELU (gelu.ts), the
 * softmax gradient (softmaxGrad.ts) and sums over leading axes (columnSum.ts; the bias
 * gradients), the last two as overrides of tfjs' own Softmax gradient and Sum kernel. Backend selection calls it when it activates webgpu with
 * the fast paths on (src/core/backend/select.ts), as it does installWasmFastPaths for wasm.
 * Needs the webgpu backend module loaded (the Sum override wraps its stock kernel). Registering
 * touches no GPU: a kernel compiles its shader on first use.
 */
export function installWebgpuFastPaths(): void {
  if (installed) return;
  installed = true;
  registerWebgpuLayerNorm();
  registerWebgpuGelu();
  registerWebgpuSoftmaxGrad();
  registerWebgpuLeadingSum();
}
