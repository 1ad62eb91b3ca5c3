import * as tf from "@tensorflow/tfjs";

/**
 * Replaces `backendName`'s kernel `kernelName` with `wrap(stock)`, keeping the stock kernel's
 * setup and dispose hooks, and returns the stock config so the wrapper (or an uninstall) can
 * reach it. Undefined, and nothing changed, where that backend is not registered in this
 * process. How the wasm fast paths (wasm/) and the webgpu Sum (webgpuKernels/columnSum.ts)
 * take over one kernel while leaving the rest of its cases to tfjs.
 */
export function overrideKernel(kernelName: string, backendName: string, wrap: (stock: tf.KernelConfig) => tf.KernelFunc): tf.KernelConfig | undefined {
  const stock = tf.getKernel(kernelName, backendName);
  if (!stock) return undefined;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc, kernelFunc: wrap(stock) });
  return stock;
}
