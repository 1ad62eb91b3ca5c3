// Shared cases for fastpath.test.ts (cpu) and fastpath.wasm.test.ts (wasm): the fast compute
// paths must give the same logits and gradients as the stock tfjs ops (≤ 1e-5 relative).
import * as tf from "@tensorflow/tfjs";
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateConfig, HALF, ViTConfig } from "../../../src/core/model/config";
import { initParams, disposeParams, ParamMap } from "../../../src/core/model/params";
import { forward, setFastPaths } from "../../../src/core/model/vit";
import { scaledDotAttention, plainScaledDotAttention } from "../../../src/core/model/attention";
import { fusedGelu, fusedLayerNorm } from "../../../src/core/model/fusedOps";
import { batchMatMul } from "../../../src/core/backend/wasm/batchMatMulPerItem";
import { Rng } from "../../../src/core/rng";

/** max |a − b| / max |b|: one number per tensor, so a scale-free tolerance works everywhere. */
export function relErr(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    assert.deepEqual(a.shape, b.shape);
    const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    const scale = tf.max(tf.abs(b)).dataSync()[0];
    return diff / Math.max(scale, 1e-12);
  });
}

function rand(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = Rng.fromSeed(seed, "fastpath-test");
  const n = shape.reduce((x, y) => x * y, 1);
  return tf.mul(tf.tensor(rng.fillNormal(n), shape), scale);
}

/** Value and gradient of sum(w ⊙ f(inputs)) for a fixed random w, w.r.t. every input. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], seed: number) {
  const y = f(...inputs);
  const w = rand(y.shape, seed);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), w)))(inputs);
  return { y, grads };
}

function assertSame(fast: ReturnType<typeof valueAndGrads>, plain: ReturnType<typeof valueAndGrads>, what: string) {
  assert.ok(relErr(fast.y, plain.y) <= 1e-5, `${what}: value differs by ${relErr(fast.y, plain.y)}`);
  fast.grads.forEach((g, i) => {
    const e = relErr(g, plain.grads[i]);
    assert.ok(e <= 1e-5, `${what}: gradient of input ${i} differs by ${e}`);
  });
}

export const TINY: ViTConfig = validateConfig({
  imgSize: 8, patchSize: 4, inChans: 3, numClasses: 5, dim: 16, depth: 2, heads: 2, mlpDim: 32, mean: HALF, std: HALF,
});

/** Nonzero head and biases so every gradient path carries signal (initParams zeroes them). */
export function tinyParams(c: ViTConfig = TINY): ParamMap {
  const p = initParams(c, 7);
  let s = 100;
  for (const name of Object.keys(p)) {
    if (name === "head.weight" || name.endsWith(".bias")) {
      const old = p[name];
      p[name] = rand(old.shape, s++, 0.1);
      old.dispose();
    }
  }
  return p;
}

export function fastPathCases(): void {
  // On wasm, backend selection installed the shared-buffer kernels (src/core/backend/wasm/fastPaths.ts).
  test("shared-buffer Identity/Cast: clones and casts keep their values after the source is freed", () => {
    const x = tf.tensor([1.5, -2, 3], [3]);
    const clone = tf.clone(x);
    const same = tf.cast(x, "float32");
    const toInt = tf.cast(x, "int32");
    x.dispose();
    assert.deepEqual(Array.from(clone.dataSync()), [1.5, -2, 3]);
    assert.deepEqual(Array.from(same.dataSync()), [1.5, -2, 3]);
    assert.deepEqual(Array.from(toInt.dataSync()), [1, -2, 3]);
    const v = tf.variable(tf.tensor([1, 2]));
    const snapshot = tf.clone(v);
    v.assign(tf.tensor([7, 8]));
    assert.deepEqual(Array.from(snapshot.dataSync()), [1, 2], "a clone does not follow a later assign");
    tf.dispose([clone, same, toInt, v, snapshot]);
  });

  test("batchMatMul equals tf.matMul in value and gradients", () => {
    tf.tidy(() => {
      for (const [n, m, k, p] of [[3, 5, 4, 6], [1, 7, 3, 2], [8, 17, 16, 17]]) {
        const a = rand([n, m, k], 1), b = rand([n, k, p], 2);
        const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D);
        const bm = (x: tf.Tensor, y: tf.Tensor) => batchMatMul(x as tf.Tensor3D, y as tf.Tensor3D);
        assertSame(valueAndGrads(bm, [a, b], 3), valueAndGrads(mm, [a, b], 3), `batchMatMul [${n},${m},${k}]x[${n},${k},${p}]`);
      }
    });
  });

  test("batchMatMul rejects shapes that are not [N,M,K] x [N,K,P]", () => {
    tf.tidy(() => {
      assert.throws(() => batchMatMul(tf.zeros([2, 3, 4]) as tf.Tensor3D, tf.zeros([2, 5, 6]) as tf.Tensor3D), /\[2,3,4\] and \[2,5,6\]/);
    });
  });

  test("fast attention equals plain attention in value and q/k/v gradients", () => {
    tf.tidy(() => {
      for (const [bh, t, dh] of [[4, 5, 8], [6, 17, 16]]) {
        const qkv = [rand([bh, t, dh], 10), rand([bh, t, dh], 11), rand([bh, t, dh], 12)];
        const fast = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => scaledDotAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D);
        const plain = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => plainScaledDotAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D);
        assertSame(valueAndGrads(fast, qkv, 13), valueAndGrads(plain, qkv, 13), `attention [${bh},${t},${dh}]`);
      }
    });
  });

  test("fused LayerNorm and GELU equal the stock-op versions in value and gradients", () => {
    tf.tidy(() => {
      const x = tf.add(rand([6, 16], 20, 2), 0.5), g = tf.add(rand([16], 21, 0.3), 1), b = rand([16], 22, 0.3);
      const plainLn = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
        const { mean, variance } = tf.moments(xi, -1, true);
        return tf.add(tf.mul(tf.mul(tf.sub(xi, mean), tf.rsqrt(tf.add(variance, 1e-6))), gi), bi);
      };
      const fastLn = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => fusedLayerNorm(xi, gi, bi, 1e-6);
      assertSame(valueAndGrads(fastLn, [x, g, b], 23), valueAndGrads(plainLn, [x, g, b], 23), "layerNorm");
      const x3 = rand([2, 3, 16], 24);
      assertSame(valueAndGrads(fastLn, [x3, g, b], 25), valueAndGrads(plainLn, [x3, g, b], 25), "layerNorm rank 3");
      const plainGelu = (xi: tf.Tensor) => tf.mul(tf.mul(xi, 0.5), tf.add(tf.erf(tf.mul(xi, Math.SQRT1_2)), 1));
      assertSame(valueAndGrads(fusedGelu, [rand([5, 9], 26, 3)], 27), valueAndGrads(plainGelu, [rand([5, 9], 26, 3)], 27), "gelu");
    });
  });

  test("ViT logits, input gradient and weight gradients: fast paths equal stock ops", () => {
    const p = tinyParams();
    const names = Object.keys(p);
    const x = tf.tidy(() => tf.sigmoid(rand([3, 8, 8, 3], 30))) as tf.Tensor4D;
    const run = (fast: boolean) => {
      const old = setFastPaths(fast);
      try {
        const f = (xi: tf.Tensor, ...ws: tf.Tensor[]) => {
          const q: ParamMap = {};
          names.forEach((n, i) => (q[n] = ws[i]));
          return forward(TINY, q, xi as tf.Tensor4D);
        };
        return valueAndGrads(f, [x, ...names.map((n) => p[n])], 31);
      } finally {
        setFastPaths(old);
      }
    };
    tf.tidy(() => {
      const fast = run(true), plain = run(false);
      assert.ok(relErr(fast.y, plain.y) <= 1e-5, `logits differ by ${relErr(fast.y, plain.y)}`);
      fast.grads.forEach((g, i) => {
        const e = relErr(g, plain.grads[i]);
        assert.ok(e <= 1e-5, `gradient of ${i === 0 ? "input" : names[i - 1]} [${g.shape}] differs by ${e}`);
      });
    });
    x.dispose();
    disposeParams(p);
  });

  test("fast paths do not leak tensors (forward, input gradient, weight gradient)", () => {
    const p = tinyParams();
    const x = tf.tidy(() => tf.sigmoid(rand([2, 8, 8, 3], 40))) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const logits = forward(TINY, p, x);
        const gx = tf.grad((xi: tf.Tensor) => tf.sum(forward(TINY, p, xi as tf.Tensor4D)))(x);
        const gw = tf.grads((w: tf.Tensor) => tf.sum(forward(TINY, { ...p, "blocks.0.attn.qkv.weight": w }, x)))([p["blocks.0.attn.qkv.weight"]]);
        return [logits.sum(), gx.sum(), gw[0].sum()].map((t) => t.dataSync()[0]);
      });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    disposeParams(p);
  });
}
