import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import {
  crossEntropy,
  marginLoss,
  dlrLoss,
  targetedDlrLoss,
  klDivergence,
  misclassified,
  resolveLoss,
} from "../../../src/core/attacks/losses";
import { lossAndGrad } from "../../../src/core/attacks/gradient";

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);
const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

describe("attack losses", () => {
  before(async () => {
    await selectTestBackend();
  });

  // Row 0: y = 0 is not the top class; row 1: y = 2 is the top class.
  const z = () => tf.tensor2d([[1, 2, 3, 0.5], [0, 1, 4, 2]]);
  const y = () => tf.tensor1d([0, 2], "int32");

  test("cross-entropy = logsumexp(z) − z_y", () => {
    const [a, b] = values(crossEntropy(z(), y()));
    close(a, Math.log(Math.E + Math.E ** 2 + Math.E ** 3 + Math.E ** 0.5) - 1);
    close(b, Math.log(1 + Math.E + Math.E ** 4 + Math.E ** 2) - 4);
  });

  test("CW margin = max_{k≠y} z_k − z_y (positive iff misclassified)", () => {
    assert.deepEqual(values(marginLoss(z(), y())), [2, -2]);
  });

  test("DLR = −(z_y − max_{i≠y} z_i)/(z_π1 − z_π3)", () => {
    const [a, b] = values(dlrLoss(z(), y()));
    close(a, -(1 - 3) / (3 - 1)); // sorted 3,2,1,0.5
    close(b, -(4 - 2) / (4 - 1)); // sorted 4,2,1,0
  });

  test("targeted DLR = −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2)", () => {
    const t = tf.tensor1d([1, 3], "int32");
    const [a, b] = values(targetedDlrLoss(t)(z(), y()));
    close(a, -(1 - 2) / (3 - (1 + 0.5) / 2));
    close(b, -(4 - 2) / (4 - (1 + 0) / 2));
    t.dispose();
  });

  test("DLR is invariant to shifting and scaling logits", () => {
    const a = values(dlrLoss(z(), y()));
    const b = values(dlrLoss(tf.tidy(() => tf.add(tf.mul(z(), 7), 3)) as tf.Tensor2D, y()));
    a.forEach((v, i) => close(v, b[i], 1e-5));
  });

  test("KL(p‖q) hand value, zero for equal inputs, and asymmetric", () => {
    const p = tf.tensor2d([[0, 0]]);
    const q = tf.tensor2d([[0, Math.log(3)]]); // softmax = [1/4, 3/4]
    close(values(klDivergence(p, q))[0], 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3));
    close(values(klDivergence(q, p))[0], 0.25 * Math.log(0.5) + 0.75 * Math.log(1.5));
    close(values(klDivergence(q, q))[0], 0);
    tf.dispose([p, q]);
  });

  test("misclassified compares argmax with y", () => {
    assert.deepEqual(values(misclassified(z(), y())), [1, 0]);
  });

  test("errors name the loss and the shapes", () => {
    assert.throws(() => dlrLoss(tf.tensor2d([[1, 2]]), tf.tensor1d([0], "int32")), /dlrLoss needs at least 3 classes/);
    assert.throws(() => crossEntropy(z(), tf.tensor1d([0], "int32")), /labels must be \[2\]/);
    assert.throws(() => resolveLoss("hinge" as never), /unknown attack loss "hinge"; known: ce, margin, dlr/);
  });

  test("margin gradient flows only to z_y and the best other logit", () => {
    const zz = z();
    const yy = y();
    const g = tf.grad((l: tf.Tensor) => tf.sum(marginLoss(l as tf.Tensor2D, yy)))(zz);
    assert.deepEqual(Array.from(g.dataSync()), [-1, 0, 1, 0, 0, 0, -1, 1]);
    tf.dispose([zz, yy, g]);
  });

  test("DLR gradient: sort indices are constants, values carry the gradient", () => {
    const zz = tf.tensor2d([[0, 1, 4, 2]]);
    const yy = tf.tensor1d([2], "int32");
    // DLR = −(z2 − z3)/(z2 − z1): ∂/∂z1 = −2/9, ∂/∂z2 = −1/9, ∂/∂z3 = 1/3.
    const g = tf.grad((l: tf.Tensor) => tf.sum(dlrLoss(l as tf.Tensor2D, yy)))(zz);
    Array.from(g.dataSync()).forEach((v, i) => close(v, [0, -2 / 9, -1 / 9, 1 / 3][i], 1e-6));
    tf.dispose([zz, yy, g]);
  });

  test("lossAndGrad returns logits, per-sample loss and input gradient, without leaks", () => {
    const w = tf.tensor2d([[1, -1], [2, 0]]);
    const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 2]), w) as tf.Tensor2D;
    const x = tf.tensor4d([[[[0.5, 0.25]]]]);
    const yy = tf.tensor1d([0], "int32");
    const before = tf.memory().numTensors;
    const r = lossAndGrad(model, x, yy, marginLoss);
    // logits = [1, -0.5]; margin = z1 − z0 = −1.5; d/dx = W[:,1] − W[:,0] = [−2, −2]
    assert.deepEqual(Array.from(r.logits.dataSync()), [1, -0.5]);
    assert.deepEqual(Array.from(r.loss.dataSync()), [-1.5]);
    assert.deepEqual(Array.from(r.grad.dataSync()), [-2, -2]);
    tf.dispose([r.logits, r.loss, r.grad]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([w, x, yy]);
  });
});
