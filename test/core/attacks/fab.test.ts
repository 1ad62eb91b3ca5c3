import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Rng } from "../../../src/core/rng";
import { fabT } from "../../../src/core/attacks/fab";
import { linfNorm, projectLinfHyperplane } from "../../../src/core/attacks/fabProjection";
import type { Classifier } from "../../../src/core/attacks/types";
import { D, FLOAT_TOL, H, W, C, fooledMask, inBall, randomImages } from "./toyModels";

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) =>
  assert.ok(Array.from(a).every((v, i) => Math.abs(v - b[i]) <= tol), `[${Array.from(a)}] ≠ [${b}]`);

describe("FAB's L-inf projection onto a hyperplane inside [0,1]", () => {
  test("box inactive: every coordinate moves by gap/‖w‖₁", () => {
    // w·t − b = 1.0 − 0.6 = 0.4, ‖w‖₁ = 2 → λ = 0.2 downwards.
    close(projectLinfHyperplane([0.5, 0.5], [1, 1], 0.6), [-0.2, -0.2]);
  });
  test("box active: the blocked coordinate stops at 0, the other makes up the rest", () => {
    // gap 0.3: both move until t₀ hits 0 at λ = 0.1 (0.2 covered), then t₁ alone: λ = 0.2.
    const d = projectLinfHyperplane([0.1, 0.5], [1, 1], 0.3);
    close(d, [-0.1, -0.2]);
    assert.ok(Math.abs(0.1 + d[0] + 0.5 + d[1] - 0.3) < 1e-6, "lands on the plane");
  });
  test("t below the plane: moves up, against the sign of negative weights", () => {
    // w·t − b = −0.5: flipped, w' = (−1, 1), λ = 0.25 → d = (+0.25, −0.25); w·(t+d) = 0.5.
    close(projectLinfHyperplane([0.5, 0.5], [1, -1], 0.5), [0.25, -0.25]);
  });
  test("unreachable inside the box: returns the box corner; zero weights never move", () => {
    close(projectLinfHyperplane([0.1, 0.1, 0.7], [1, 1, 0], -1), [-0.1, -0.1, 0]);
    close(projectLinfHyperplane([0.3, 0.3], [1, 1], 0.6), [0, 0]);
  });
  test("length mismatch names both lengths", () => {
    assert.throws(() => projectLinfHyperplane([0, 0], [1], 0), /w has 1 entries, t has 2/);
  });
});

describe("fab-t", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("2-D linear classifier: finds the exact minimal L-inf distance, box constraint included", async () => {
    // Images [1, 1, 2]; class 1 iff a + b > 1.2. From (0.5, 0.5) the nearest boundary point is
    // (0.6, 0.6): distance 0.1. From (0.98, 0.1) the box stops a at 1 (+0.02), so b must move
    // 0.1: distance 0.1, although the unconstrained L-inf distance is 0.12 / 2 = 0.06.
    const w = tf.tensor2d([[0, 1], [0, 1]]);
    const bias = tf.tensor1d([0, -1.2]);
    const model: Classifier = (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], 2]), w), bias) as tf.Tensor2D);
    const x = tf.tensor4d([0.5, 0.5, 0.98, 0.1], [2, 1, 1, 2]);
    const y = tf.tensor1d([0, 0], "int32");
    const hit = await fabT(model, x, y, { eps: 0.12, steps: 30, rng: Rng.fromSeed(1) });
    assert.deepEqual(fooledMask(model, hit, y), [true, true]);
    const delta = tf.tidy(() => tf.sub(hit, x).dataSync());
    for (const b of [0, 1]) {
      const dist = linfNorm(delta.subarray(2 * b, 2 * b + 2));
      assert.ok(dist >= 0.1 - 1e-6 && dist <= 0.1 * 1.05 + 1e-6, `sample ${b}: distance ${dist}, exact 0.1`);
    }
    assert.ok(Math.abs(delta[2] - 0.02) < 1e-6, `a moved ${delta[2]}, the box allows 0.02`);
    const miss = await fabT(model, x, y, { eps: 0.08, steps: 30, rng: Rng.fromSeed(1) });
    assert.deepEqual(miss.dataSync(), x.dataSync(), "no point within 0.08 exists: the clean point comes back");
    tf.dispose([w, bias, x, y, hit, miss]);
  });

  test("10-class linear model: broken exactly where the nearest targeted boundary is inside eps", async () => {
    const rng = Rng.fromSeed(4, "fab-linear");
    const K = 10;
    const wArr = rng.fillNormal(D * K, 1);
    const bArr = rng.fillNormal(K, 0.1);
    const w = tf.tensor2d(wArr, [D, K]);
    const bias = tf.tensor1d(bArr);
    const model: Classifier = (x) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], D]), w), bias) as tf.Tensor2D);
    const n = 12;
    const x = randomImages(n, 21);
    const xs = x.dataSync();
    const y = tf.tidy(() => tf.argMax(model(x), 1) as tf.Tensor1D);
    const ys = y.dataSync();
    // Exact answer: misclassified ⟺ z_t ≥ z_y for some t; each is a half-space, so the nearest
    // point in the box is the projection onto its plane (when the plane meets the box).
    const exact = Array.from({ length: n }, (_, b) => {
      const t = xs.subarray(b * D, (b + 1) * D);
      let best = Infinity;
      for (let k = 0; k < K; k++) {
        if (k === ys[b]) continue;
        const wk = Float32Array.from({ length: D }, (_, i) => wArr[i * K + k] - wArr[i * K + ys[b]]);
        const d = projectLinfHyperplane(t, wk, bArr[ys[b]] - bArr[k]);
        let at = 0;
        for (let i = 0; i < D; i++) at += wk[i] * (t[i] + d[i]);
        if (Math.abs(at - (bArr[ys[b]] - bArr[k])) < 1e-4) best = Math.min(best, linfNorm(d));
      }
      return best;
    });
    const eps = [...exact].sort((a, b) => a - b)[Math.floor(n / 2)];
    const xAdv = await fabT(model, x, y, { eps, steps: 30, rng: Rng.fromSeed(2) });
    const fooled = fooledMask(model, xAdv, y);
    exact.forEach((d, b) => {
      if (d < eps / 1.06) assert.ok(fooled[b], `sample ${b}: exact distance ${d} < eps ${eps} but not broken`);
      if (d > eps + FLOAT_TOL) assert.ok(!fooled[b], `sample ${b}: broken beyond its exact distance ${d}`);
    });
    assert.ok(fooled.some(Boolean) && !fooled.every(Boolean), `eps ${eps} should split the samples: ${fooled}`);
    assert.ok(inBall(xAdv, x).linf <= eps + FLOAT_TOL);
    tf.dispose([w, bias, x, y, xAdv]);
  });

  test("restarts: random starts are seeded, stay in the ball, and never lose a sample", async () => {
    const rng = Rng.fromSeed(6, "fab-mlp");
    const w1 = tf.tensor2d(rng.fillNormal(D * 16, 1), [D, 16]);
    const w2 = tf.tensor2d(rng.fillNormal(16 * 10, 1), [16, 10]);
    const model: Classifier = (x) => tf.tidy(() => tf.matMul(tf.tanh(tf.matMul(tf.reshape(x, [x.shape[0], D]), w1)), w2) as tf.Tensor2D);
    const x = randomImages(8, 13);
    const y = tf.tidy(() => tf.argMax(model(x), 1) as tf.Tensor1D);
    const eps = 0.02;
    const one = await fabT(model, x, y, { eps, steps: 10, targets: 3, rng: Rng.fromSeed(3) });
    const before = tf.memory().numTensors;
    const a = await fabT(model, x, y, { eps, steps: 10, targets: 3, restarts: 3, rng: Rng.fromSeed(3) });
    const b = await fabT(model, x, y, { eps, steps: 10, targets: 3, restarts: 3, rng: Rng.fromSeed(3) });
    assert.equal(tf.memory().numTensors, before + 2, "only the two results stay allocated");
    assert.deepEqual(a.dataSync(), b.dataSync());
    assert.ok(inBall(a, x).linf <= eps + FLOAT_TOL);
    // Restart 1 is the same run as without restarts; later ones only add samples.
    fooledMask(model, one, y).forEach((f, i) => assert.ok(!f || fooledMask(model, a, y)[i], `sample ${i} lost by restarts`));
    assert.equal(a.shape.join(), [8, H, W, C].join());
    tf.dispose([w1, w2, x, y, one, a, b]);
  });
});
