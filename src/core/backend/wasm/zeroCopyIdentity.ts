import * as tf from "@tensorflow/tfjs";
import { overrideKernel } from "../kernelOverride";

/**
 * On wasm, `Identity` and same-dtype `Cast` copy the whole tensor. tfjs-core calls Identity to
 * *save every recorded op's inputs for the backward pass* (engine.saveTensorsForBackwardMode →
 * clone) and Cast in the gradient of every product, so a training step on wasm copies most of its
 * activations once more. Tensors are immutable (variables re-point their dataId on assign), so the
 * output can share the input's buffer with a reference count, exactly as the cpu backend and
 * wasm's own Reshape do.
 */
interface RefCountingBackend {
  incRef(dataId: object): void;
}

let registered = false;

function share(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Replaces wasm's copying Identity and same-dtype Cast with buffer sharing; idempotent. */
export function registerWasmZeroCopy(): void {
  if (registered) return;
  const cast = tf.getKernel(tf.Cast, "wasm");
  if (!cast || !tf.getKernel(tf.Identity, "wasm")) return; // wasm not registered in this process
  registered = true;
  overrideKernel(tf.Identity, "wasm", () => ({ inputs, backend }) => share((inputs as { x: tf.TensorInfo }).x, backend));
  overrideKernel(tf.Cast, "wasm", (stock) => (args) => {
    const x = (args.inputs as { x: tf.TensorInfo }).x;
    if (x.dtype !== "string" && x.dtype === (args.attrs as { dtype: string }).dtype) return share(x, args.backend);
    return stock.kernelFunc(args);
  });
}
