// The fused WGSL kernels (src/core/backend/webgpuKernels/) against the composed stock ops on the
// cpu backend: LayerNorm forward and all three gradients, GELU and its gradient, and the softmax
// gradient, over shapes that hit every code path (row tails shorter than a workgroup, the
// 256-thread rows from 1024 columns, column counts that are not a multiple of 32, rank 3).
// Plus: the fused path is really taken (tf.profile names only our kernels), a hand-checked
// row, no leaks, and shape errors. Runs on lavapipe (webgpuHarness.ts: required when CI=true).
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { fusedGelu, fusedLayerNorm } from "../../../src/core/model/fusedOps";
import { webgpuLayerNormAvailable, webgpuLayerNormForward } from "../../../src/core/backend/webgpuKernels/layerNorm";
import { webgpuGeluAvailable, webgpuGeluGrad } from "../../../src/core/backend/webgpuKernels/gelu";
import { webgpuSoftmaxGradAvailable } from "../../../src/core/backend/webgpuKernels/softmaxGrad";
import { leadingAxes } from "../../../src/core/backend/webgpuKernels/columnSum";
import { onBoth, Outputs, relativeErrors, take, webgpuUnavailable } from "./webgpuHarness";

const EPS = 1e-6;
const TOL = 1e-5;

let skip: string | undefined;
before(async () => {
  skip = await webgpuUnavailable();
});

function assertClose(errs: Record<string, number>, what: string, tol = TOL): void {
  console.log(`${what} max relative error ${Math.max(...Object.values(errs)).toExponential(2)}`);
  for (const [k, e] of Object.entries(errs)) assert.ok(e <= tol, `${what} ${k}: webgpu differs from cpu by ${e.toExponential(2)} relative (tolerance ${tol})`);
}

/** Loss Σ f(x) ⊙ w, so every output element gets its own upstream gradient. */
function weightedGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, w: tf.Tensor, xs: tf.Tensor[]): tf.Tensor[] {
  return tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), w)))(xs);
}

async function onWebgpu<T>(fn: () => Promise<T>): Promise<T> {
  await tf.setBackend("webgpu");
  try {
    return await fn();
  } finally {
    await tf.setBackend("cpu");
  }
}

describe("fused webgpu kernels match the composed ops on cpu", () => {
  for (const shape of [[3, 1], [4, 7], [5, 64], [2, 65], [6, 192], [2, 5, 33], [3, 1024], [2, 1537]]) {
    test(`LayerNorm y, dx, dγ, dβ [${shape}]`, async (t) => {
      if (skip) return t.skip(skip);
      const D = shape[shape.length - 1];
      const r = await onBoth(async () => {
        assert.equal(webgpuLayerNormAvailable(), tf.getBackend() === "webgpu");
        const x = tf.randomNormal(shape, 0.3, 2, "float32", 1);
        const g = tf.randomNormal([D], 1, 0.5, "float32", 2);
        const b = tf.randomNormal([D], 0, 0.5, "float32", 3);
        const w = tf.randomNormal(shape, 0, 1, "float32", 4);
        const y = fusedLayerNorm(x, g, b, EPS);
        const [dx, dg, db] = weightedGrads((xi, gi, bi) => fusedLayerNorm(xi, gi, bi, EPS), w, [x, g, b]);
        const out: Outputs = { y: await take(y), dx: await take(dx), dgamma: await take(dg), dbeta: await take(db) };
        tf.dispose([x, g, b, w]);
        return out;
      });
      assertClose(relativeErrors(r), `[${shape}]`);
    });
  }

  test("more rows than one dispatch dimension holds (65535 workgroups: the backend folds it into 2-D)", async (t) => {
    if (skip) return t.skip(skip);
    const shape = [70001, 3];
    const r = await onBoth(async () => {
      const x = tf.randomNormal(shape, 0, 2, "float32", 12);
      const g = tf.randomNormal([3], 1, 0.5, "float32", 13);
      const b = tf.randomNormal([3], 0, 0.5, "float32", 14);
      const w = tf.randomNormal(shape, 0, 1, "float32", 15);
      const [dx, dg, db] = weightedGrads((xi, gi, bi) => fusedLayerNorm(xi, gi, bi, EPS), w, [x, g, b]);
      const [ds] = weightedGrads((xi) => tf.softmax(xi, -1), w, [x]);
      const out: Outputs = { y: await take(fusedLayerNorm(x, g, b, EPS)), dx: await take(dx), dgamma: await take(dg), dbeta: await take(db), softmaxGrad: await take(ds) };
      tf.dispose([x, g, b, w]);
      return out;
    });
    // dγ and dβ sum 70001 rows in another order than cpu's running sum: ~5e-6 relative.
    assertClose(relativeErrors(r), `[${shape}]`);
  });

  for (const shape of [[5], [3, 129], [4, 3072]]) {
    test(`GELU y and dx over [-6, 6] [${shape}]`, async (t) => {
      if (skip) return t.skip(skip);
      const r = await onBoth(async () => {
        assert.equal(webgpuGeluAvailable(), tf.getBackend() === "webgpu");
        const x = tf.randomUniform(shape, -6, 6, "float32", 5);
        const w = tf.randomNormal(shape, 0, 1, "float32", 6);
        const y = fusedGelu(x);
        const [dx] = weightedGrads((xi) => fusedGelu(xi), w, [x]);
        const out: Outputs = { y: await take(y), dx: await take(dx) };
        tf.dispose([x, w]);
        return out;
      });
      assertClose(relativeErrors(r), `[${shape}]`);
    });
  }

  for (const shape of [[4, 10], [2, 3, 65], [24, 65, 65], [2, 1030]]) {
    test(`softmax gradient over the last axis [${shape}]`, async (t) => {
      if (skip) return t.skip(skip);
      const r = await onBoth(async () => {
        assert.equal(webgpuSoftmaxGradAvailable(), tf.getBackend() === "webgpu");
        const x = tf.randomNormal(shape, 0, 3, "float32", 7);
        const w = tf.randomNormal(shape, 0, 1, "float32", 8);
        const [dx] = weightedGrads((xi) => tf.softmax(xi, -1), w, [x]);
        const out: Outputs = { dx: await take(dx) };
        tf.dispose([x, w]);
        return out;
      });
      assertClose(relativeErrors(r), `[${shape}]`);
    });
  }
});

describe("webgpu sums over leading axes (the column kernel behind tfjs' Sum)", () => {
  test("leadingAxes: only axes 0 … k−1 below the rank, any order or sign", () => {
    assert.equal(leadingAxes(0, 2), 1);
    assert.equal(leadingAxes([-2], 2), 1);
    assert.equal(leadingAxes([1, 0], 3), 2);
    assert.equal(leadingAxes([0, 1], 2), undefined, "a full reduction stays stock");
    assert.equal(leadingAxes([1], 2), undefined);
    assert.equal(leadingAxes([0, 2], 3), undefined);
    assert.equal(leadingAxes([], 2), undefined);
  });

  const cases: [number[], number | number[], boolean][] = [
    [[7, 5], 0, false], [[2080, 33], [0], true], [[3, 4, 33], [0, 1], false], [[3, 4, 33], [1, 0], true],
    [[6, 70], -2, false], [[5, 9], 1, false], [[4, 6], [0, 1], false], [[2, 3, 4], [0, 2], false],
  ];
  for (const [shape, axis, keepDims] of cases) {
    test(`tf.sum([${shape}], axis ${JSON.stringify(axis)}, keepDims ${keepDims}) equals cpu`, async (t) => {
      if (skip) return t.skip(skip);
      const r = await onBoth(async () => {
        const x = tf.randomNormal(shape, 0, 3, "float32", 11);
        const s = tf.sum(x, axis, keepDims);
        const out: Outputs = { shape: s.shape.length ? s.shape : [0], sum: await take(s) };
        // int32 stays on tfjs' own kernel. Only rank 2 here: tfjs-webgpu 4.22's int32
        // Transpose of rank 3, which its Sum uses there, fails WGSL validation (f32 output).
        if (shape.length === 2) {
          const xi = tf.cast(tf.round(x), "int32");
          const si = tf.sum(xi, axis, keepDims);
          out.intSum = Array.from(await si.data());
          tf.dispose([xi, si]);
        }
        x.dispose();
        return out;
      });
      assert.deepEqual(r.webgpu.shape, r.cpu.shape);
      assert.deepEqual(r.webgpu.intSum, r.cpu.intSum);
      assertClose(relativeErrors({ cpu: { sum: r.cpu.sum }, webgpu: { sum: r.webgpu.sum } }), `sum [${shape}] axis ${JSON.stringify(axis)}`);
    });
  }
});

describe("fused webgpu kernels", () => {
  test("LayerNorm and GELU forward + backward dispatch only our kernels (no Mean/Sub/Rsqrt/Erf/Exp)", async (t) => {
    if (skip) return t.skip(skip);
    const names = await onWebgpu(async () => {
      const x = tf.randomNormal([8, 192], 0, 1, "float32", 9);
      const g = tf.ones([192]);
      const b = tf.zeros([192]);
      const prof = await tf.profile(async () => {
        const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => fusedGelu(fusedLayerNorm(xi, gi, bi, EPS)).sum())([x, g, b]);
        await Promise.all(grads.map((d) => d.data()));
        tf.dispose(grads);
      });
      tf.dispose([x, g, b]);
      return prof.kernels.map((k) => k.name);
    });
    t.diagnostic(names.join(", "));
    for (const k of ["HyperatWebgpuLayerNormStats", "HyperatWebgpuLayerNormApply", "HyperatWebgpuLayerNormGradInput",
      "HyperatWebgpuLayerNormGradScale", "HyperatWebgpuLayerNormGradShift", "HyperatWebgpuGelu", "HyperatWebgpuGeluGrad"]) {
      assert.equal(names.filter((n) => n === k).length, 1, `${k} runs once`);
    }
    for (const stock of ["Mean", "Sub", "Rsqrt", "Square", "Erf", "Exp"]) assert.ok(!names.includes(stock), `stock ${stock} ran`);
  });

  test("hand-checked row: [1, 2, 3] → [−1.2247, 0, 1.2247]; stats (μ, 1/σ) = (2, 1/√(2/3))", async (t) => {
    if (skip) return t.skip(skip);
    const [y, stats] = await onWebgpu(async () => {
      const [yt, st] = webgpuLayerNormForward(tf.tensor2d([[1, 2, 3]]), tf.ones([3]), tf.zeros([3]), 0);
      return [await take(yt), await take(st)];
    });
    const s = Math.sqrt(1.5);
    [-s, 0, s].forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 1e-6, `y[${i}] = ${y[i]}, expected ${v}`));
    assert.ok(Math.abs(stats[0] - 2) < 1e-6 && Math.abs(stats[1] - 1 / Math.sqrt(2 / 3)) < 1e-6, `stats ${Array.from(stats)}`);
  });

  test("GELU gradient at hand-computed points: dx(0) = ½, dx(1) = Φ(1) + φ(1) = 1.0833", async (t) => {
    if (skip) return t.skip(skip);
    const dx = await onWebgpu(async () => take(webgpuGeluGrad(tf.ones([3]), tf.tensor1d([0, 1, -1]))));
    const phi1 = Math.exp(-0.5) / Math.sqrt(2 * Math.PI);
    const cdf1 = 0.8413447460685429;
    [0.5, cdf1 + phi1, 1 - cdf1 - phi1].forEach((v, i) => assert.ok(Math.abs(dx[i] - v) < 2e-6, `dx[${i}] = ${dx[i]}, expected ${v}`));
  });

  test("leaks no tensors and no GPU bytes over repeated forward + backward", async (t) => {
    if (skip) return t.skip(skip);
    const [m0, m1] = await onWebgpu(async () => {
      const x = tf.randomNormal([6, 130], 0, 1, "float32", 10);
      const g = tf.ones([130]);
      const b = tf.zeros([130]);
      const step = async () => {
        const grads = tf.tidy(() => tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) =>
          tf.softmax(fusedGelu(fusedLayerNorm(xi, gi, bi, EPS)), -1).mul(xi).sum())([x, g, b]));
        await Promise.all(grads.map((d) => d.data()));
        tf.dispose(grads);
      };
      await step();
      const before = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      for (let i = 0; i < 3; i++) await step();
      const after = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      tf.dispose([x, g, b]);
      return [before, after];
    });
    t.diagnostic(`numTensors ${m0.numTensors} → ${m1.numTensors}, numBytesInGPU ${m0.numBytesInGPU} → ${m1.numBytesInGPU}`);
    assert.equal(m1.numTensors, m0.numTensors, "tensors leaked");
    assert.ok(m1.numBytesInGPU! <= m0.numBytesInGPU!, `GPU bytes grew: ${m0.numBytesInGPU} → ${m1.numBytesInGPU}`);
  });

  test("a gamma that does not match the last axis is refused, naming both shapes", async (t) => {
    if (skip) return t.skip(skip);
    await onWebgpu(async () => {
      assert.throws(() => webgpuLayerNormForward(tf.zeros([2, 4]), tf.ones([3]), tf.zeros([3]), EPS), /gamma must be \[4\] \(the last axis\), got \[3\]/);
    });
  });
});
