import * as tf from "@tensorflow/tfjs";
import { installWasmFastPaths } from "../../../src/core/backend/wasm/fastPaths";

/**
 * Back to wasm after a cpu reference run, through the same installation backend selection uses
 * (src/core/backend/select.ts → installWasmFastPaths), so the kernels under test are the ones a
 * run gets. Call selectBackend("wasm") once first: it loads the wasm backend module.
 */
export async function setWasmBackend(): Promise<void> {
  await tf.setBackend("wasm");
  installWasmFastPaths();
}
