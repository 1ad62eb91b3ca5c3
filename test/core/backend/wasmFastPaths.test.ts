import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../../src/core/backend/select";
import { setFastPaths } from "../../../src/core/backend/fastPathSwitch";
import { installWasmFastPaths } from "../../../src/core/backend/wasm/fastPaths";
import { GELU_WITH_DERIVATIVE, wasmGeluAvailable } from "../../../src/core/backend/wasm/gelu";
import { LAYER_NORM, wasmLayerNormAvailable } from "../../../src/core/backend/wasm/layerNorm";
import { FAST_BATCH_MATMUL } from "../../../src/core/backend/wasm/batchMatMulPerItem";
import { forward } from "../../../src/core/model/vit";
import { disposeParams } from "../../../src/core/model/params";
import { tinyConfig, randomParams, randomImages } from "../model/tinyVit";

// One process, in order: the kernels come from backend selection or installWasmFastPaths only.
const OURS = [GELU_WITH_DERIVATIVE, LAYER_NORM, FAST_BATCH_MATMUL];

test("wasm chosen with the fast paths off (hyperat bench --plain) runs stock kernels, and model code registers none", async () => {
  process.env.HYPERAT_BLAS = "off";
  setFastPaths(false);
  await selectBackend("wasm");
  const stockSplit = tf.getKernel(tf.SplitV, "wasm")!.kernelFunc;
  const stockIdentity = tf.getKernel(tf.Identity, "wasm")!.kernelFunc;
  for (const k of OURS) assert.equal(tf.getKernel(k, "wasm"), undefined, k);
  // A forward with the switch back on must not install anything from inside the model.
  setFastPaths(true);
  const vit = tinyConfig();
  const p = randomParams(vit, 1);
  const x = randomImages(vit, 2);
  tf.tidy(() => forward(vit, p, x));
  for (const k of OURS) assert.equal(tf.getKernel(k, "wasm"), undefined, `${k} registered by model code`);
  assert.equal(tf.getKernel(tf.SplitV, "wasm")!.kernelFunc, stockSplit, "SplitV replaced by model code");
  assert.equal(tf.getKernel(tf.Identity, "wasm")!.kernelFunc, stockIdentity, "Identity replaced by model code");
  assert.equal(wasmGeluAvailable(), false);
  assert.equal(wasmLayerNormAvailable(), false);

  installWasmFastPaths();
  for (const k of OURS) assert.ok(tf.getKernel(k, "wasm"), k);
  assert.notEqual(tf.getKernel(tf.SplitV, "wasm")!.kernelFunc, stockSplit);
  assert.notEqual(tf.getKernel(tf.Identity, "wasm")!.kernelFunc, stockIdentity);
  assert.equal(wasmGeluAvailable(), true);
  assert.equal(wasmLayerNormAvailable(), true);
  installWasmFastPaths(); // idempotent: no "already registered" error
  tf.dispose(x);
  disposeParams(p);
});
