// HyperAT against the real timm: test/fixtures/timm-vit was written by timm itself
// (`python3 bench/timm_reference.py fixture --out test/fixtures/timm-vit`, versions in its
// fixture.json): a random VisionTransformer saved as a plain state_dict, a batch of images, and
// timm's logits and input gradient. Loading that file as a user would and reproducing both, on the
// plain cpu kernels and on the wasm fast paths (native BLAS matMul where present, fused GELU and
// LayerNorm kernels), checks the forward pass and the attacks' gradient against an independent
// implementation rather than against our own reference code.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../../src/core/backend/select";
import { loadModelFile } from "../../../src/core/model/modelFile";
import { forward } from "../../../src/core/model/vit";
import { disposeParams } from "../../../src/core/model/params";
import { crossEntropy } from "../../../src/core/attacks/losses";
import { readSafetensorsFile } from "../../../src/core/io/files";
import { relErr } from "./fastpathCases";

const dir = join(__dirname, "..", "..", "fixtures", "timm-vit");
const fixture = JSON.parse(readFileSync(join(dir, "fixture.json"), "utf8")) as {
  img: number;
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  mlp_dim: number;
  classes: number;
  mean: [number, number, number];
  std: [number, number, number];
  n: number;
};

for (const backend of ["cpu", "wasm"] as const) {
  describe(`timm's VisionTransformer reproduced on ${backend}`, () => {
    test("the state_dict timm saved loads with timm's architecture, and logits and the CE input gradient match timm's to 1e-4", async (t) => {
      await selectBackend(backend);
      const expected = (await readSafetensorsFile(join(dir, "expected.safetensors"))).tensors;
      const model = await loadModelFile(join(dir, "model.safetensors"), { heads: fixture.heads, mean: fixture.mean, std: fixture.std });
      const c = model.config;
      assert.deepEqual(
        [c.imgSize, c.patchSize, c.dim, c.depth, c.heads, c.mlpDim, c.numClasses],
        [fixture.img, fixture.patch, fixture.dim, fixture.depth, fixture.heads, fixture.mlp_dim, fixture.classes],
      );
      const x = tf.tensor4d(expected.x.data as Float32Array, expected.x.shape as [number, number, number, number]);
      const y = tf.tensor1d(Int32Array.from(expected.y.data), "int32"); // safetensors data is read as float32
      const logits = tf.tidy(() => forward(c, model.params, x));
      const grad = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(crossEntropy(forward(c, model.params, xi as tf.Tensor4D), y)))(x));
      const timmLogits = tf.tensor(expected.logits.data, expected.logits.shape);
      const timmGrad = tf.tensor(expected.grad.data, expected.grad.shape);
      const logitErr = relErr(logits, timmLogits);
      const gradErr = relErr(grad, timmGrad);
      t.diagnostic(`relative difference from timm: logits ${logitErr.toExponential(2)}, input gradient ${gradErr.toExponential(2)}`);
      assert.ok(logitErr < 1e-4, `logits differ from timm's by ${logitErr.toExponential(2)} (relative)`);
      assert.ok(gradErr < 1e-4, `input gradients differ from timm's by ${gradErr.toExponential(2)} (relative)`);
      // Same predictions: a difference in a model file's layout would change them wholesale.
      const ours = tf.tidy(() => tf.argMax(logits, 1).dataSync());
      const theirs = tf.tidy(() => tf.argMax(timmLogits, 1).dataSync());
      assert.deepEqual(Array.from(ours), Array.from(theirs));
      tf.dispose([x, y, logits, grad, timmLogits, timmGrad]);
      disposeParams(model.params);
    });
  });
}
