import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../../src/core/backend/select";
import { layerNormForward, wasmLayerNormAvailable } from "../../../src/core/backend/wasm/layerNorm";
import { fusedLayerNorm } from "../../../src/core/model/fusedOps";
import { setWasmBackend } from "./wasmBackend";

const EPS = 1e-6;

/** Stock-op LayerNorm (the plain path's math) and its gradients via tfjs autodiff. */
function reference(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, w: tf.Tensor) {
  const f = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
    const mean = tf.mean(xi, -1, true);
    const c = tf.sub(xi, mean);
    const y = tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(tf.mean(tf.square(c), -1, true), EPS))), gi), bi);
    return tf.sum(tf.mul(y, w));
  };
  const y = tf.add(tf.mul(tf.div(tf.sub(x, tf.mean(x, -1, true)), tf.sqrt(tf.add(tf.moments(x, -1, true).variance, EPS))), g), b);
  return [y, ...tf.grads(f)([x, g, b])];
}

function close(a: tf.Tensor, b: tf.Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, `${what} shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  const scale = Math.max(1, ...Array.from(y, Math.abs));
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  assert.ok(worst <= 1e-5 * scale, `${what}: max |Δ| ${worst}`);
}

describe("wasm SIMD LayerNorm kernels", () => {
  before(async () => {
    process.env.HYPERAT_BLAS = "off"; // this file tests the LayerNorm kernels alone
    await selectBackend("wasm");
    assert.ok(wasmLayerNormAvailable());
  });

  // Widths 1–9 and 13 exercise every row-tail length; 192 is the ViT width; rank 3 is [B, T, D].
  for (const shape of [[4, 1], [3, 3], [5, 7], [2, 8], [6, 9], [2, 3, 13], [3, 192]]) {
    it(`forward and all three gradients match stock ops on the cpu backend ([${shape}])`, async () => {
      const D = shape[shape.length - 1];
      const make = () => [
        tf.randomNormal(shape, 0.3, 2, "float32", 1),
        tf.randomNormal([D], 1, 0.5, "float32", 2),
        tf.randomNormal([D], 0, 0.5, "float32", 3),
        tf.randomNormal(shape, 0, 1, "float32", 4),
      ];
      await tf.setBackend("cpu");
      const ref = tf.tidy(() => {
        const [x, g, b, w] = make();
        return reference(x, g, b, w).map((t) => tf.keep(t.clone()));
      });
      const refData = ref.map((t) => ({ shape: t.shape, data: t.dataSync().slice() }));
      tf.dispose(ref);
      await setWasmBackend();
      const [x, g, b, w] = make();
      const y = fusedLayerNorm(x, g, b, EPS);
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(fusedLayerNorm(xi, gi, bi, EPS), w)))([x, g, b]);
      ["y", "dx", "dγ", "dβ"].forEach((what, i) => close([y, ...grads][i], tf.tensor(refData[i].data, refData[i].shape), what));
      tf.dispose([x, g, b, w, y, ...grads]);
    });
  }

  it("hand-checked row: [1, 2, 3] → [−1.2247, 0, 1.2247] with γ = 1, β = 0; x̂ and 1/σ saved", () => {
    const [y, xhat, rstd] = layerNormForward(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3]), 0);
    const s = Math.sqrt(1.5);
    close(y, tf.tensor2d([[-s, 0, s]]), "y");
    close(xhat, tf.tensor2d([[-s, 0, s]]), "x̂");
    close(rstd, tf.tensor2d([[1 / Math.sqrt(2 / 3)]]), "1/σ");
  });

  it("leaks no tensor through the custom gradient", () => {
    const x = tf.randomNormal([4, 12]);
    const g = tf.ones([12]);
    const b = tf.zeros([12]);
    const n0 = tf.memory().numTensors;
    const dx = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(fusedLayerNorm(xi, g, b, EPS)))(x));
    assert.equal(tf.memory().numTensors, n0 + 1);
    tf.dispose([x, g, b, dx]);
  });

  it("rejects a gamma that does not match the last axis, naming both shapes", () => {
    assert.throws(() => layerNormForward(tf.zeros([2, 4]), tf.ones([3]), tf.zeros([3]), EPS), /gamma \[4\], got float32 \[2,4\] and float32 \[3\]/);
  });
});
