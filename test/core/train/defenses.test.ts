import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { makeDefense, DEFENSES } from "../../../src/core/train/defenses/registry";
import { pgdAt } from "../../../src/core/train/defenses/pgdAt";
import { trades } from "../../../src/core/train/defenses/trades";
import { mart } from "../../../src/core/train/defenses/mart";
import type { Defense } from "../../../src/core/train/defenses/types";
import type { Classifier } from "../../../src/core/model/vit";
import { Rng } from "../../../src/core/rng";

// A fixed linear classifier on 1×1×2 "images": logits = x·W + b. Row 2 is misclassified on
// xAdv (so MART's weighting and its max-wrong-class term see both cases).
const W = [[2, -3, 1], [0.5, 2.5, -2]];
const B = [0.1, 0, -0.2];
const X = [[0.2, 0.7], [0.9, 0.1], [0.5, 0.5]];
const XADV = [[0.25, 0.65], [0.85, 0.15], [0.45, 0.55]];
const Y = [1, 0, 2];

// ---- plain-JS reference (written from the papers / reference code, not from the sources) ----
const logitsOf = (x: number[]) => [0, 1, 2].map((k) => x[0] * W[0][k] + x[1] * W[1][k] + B[k]);
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, v) => a + v, 0);
  return e.map((v) => v / s);
};
const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
const pClean = X.map((x) => softmax(logitsOf(x)));
const pAdv = XADV.map((x) => softmax(logitsOf(x)));
const ce = (p: number[][]) => p.map((pi, i) => -Math.log(pi[Y[i]]));
/** KL(p(x) ‖ p(x')) per sample (TRADES Eq. 5; nn.KLDivLoss(log q, p) summed over classes). */
const kl = pClean.map((p, i) => p.reduce((a, pk, k) => a + pk * (Math.log(pk) - Math.log(pAdv[i][k])), 0));

const pgdAtLoss = mean(ce(pAdv));
const tradesLoss = (beta: number) => mean(ce(pClean)) + beta * mean(kl);
/**
 * MART (Wang et al. 2020), as the reference train_mart.py computes it:
 *   new_y = the most likely wrong class of adv_probs
 *   loss_adv = CE(logits_adv, y) + NLL(log(1.0001 − adv_probs + 1e-12), new_y)
 *   loss_robust = mean_i Σ_k KL(log(adv_probs + 1e-12), nat_probs) · (1.0000001 − nat_probs[y])
 */
const martLoss = (beta: number) => {
  const bce = pAdv.map((p, i) => {
    const wrong = p.map((v, k) => (k === Y[i] ? -Infinity : v));
    const newY = wrong.indexOf(Math.max(...wrong));
    return -Math.log(p[Y[i]]) - Math.log(1.0001 - p[newY] + 1e-12);
  });
  const robust = pClean.map((p, i) => p.reduce((a, pk, k) => a + pk * (Math.log(pk) - Math.log(pAdv[i][k] + 1e-12)), 0) * (1.0000001 - p[Y[i]]));
  return mean(bce) + beta * mean(robust);
};

const img = (rows: number[][]) => tf.tensor4d(rows.flat(), [rows.length, 1, 1, 2]);

describe("defense losses on a fixed linear classifier", () => {
  let w: tf.Tensor2D;
  let b: tf.Tensor1D;
  let model: Classifier;
  before(async () => {
    await selectTestBackend();
    w = tf.tensor2d(W);
    b = tf.tensor1d(B);
    model = (x) => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], 2]), w), b) as tf.Tensor2D;
  });

  test("the example exercises MART's cases: one adversarial point is misclassified, none are sure", () => {
    const wrong = pAdv.map((p, i) => p.indexOf(Math.max(...p)) !== Y[i]);
    assert.ok(wrong.includes(true) && wrong.includes(false), `misclassified: ${wrong}`);
    assert.ok(kl.every((v) => v > 1e-3), `KL terms ${kl}`);
  });

  const cases: Array<{ name: string; defense: () => Defense; want: number; clean: boolean }> = [
    { name: "pgd-at: mean CE(f(x'), y)", defense: () => pgdAt(), want: pgdAtLoss, clean: false },
    { name: "trades β=6: CE(f(x), y) + 6·KL(p(x) ‖ p(x'))", defense: () => trades(6), want: tradesLoss(6), clean: true },
    { name: "trades β=1", defense: () => trades(1), want: tradesLoss(1), clean: true },
    { name: "mart β=6: BCE(p(x'), y) + 6·KL·(1 − p_y(x))", defense: () => mart(6), want: martLoss(6), clean: true },
    { name: "mart β=0.5", defense: () => mart(0.5), want: martLoss(0.5), clean: true },
    { name: "registry trades default β = 6", defense: () => makeDefense({ name: "trades" }), want: tradesLoss(6), clean: true },
    { name: "registry mart β = 2", defense: () => makeDefense({ name: "mart", beta: 2 }), want: martLoss(2), clean: true },
    { name: "registry pgd-at", defense: () => makeDefense({ name: "pgd-at", beta: 3 }), want: pgdAtLoss, clean: false },
  ];
  for (const c of cases) {
    test(`${c.name} = ${c.want.toFixed(6)} by hand`, () => {
      tf.tidy(() => {
        const out = c.defense().loss(model, img(X), img(XADV), tf.tensor1d(Y, "int32"));
        assert.deepEqual(out.loss.shape, []);
        const got = out.loss.dataSync()[0];
        assert.ok(Math.abs(got - c.want) <= 1e-5 * Math.max(1, c.want), `loss ${got}, by hand ${c.want}`);
        const advDiff = Math.max(...XADV.flatMap(logitsOf).map((v, i) => Math.abs(v - out.logitsAdv.dataSync()[i])));
        assert.ok(advDiff < 1e-5, "logitsAdv are the model's logits on x'");
        assert.equal(out.logitsClean !== undefined, c.clean);
        if (out.logitsClean) {
          const cleanDiff = Math.max(...X.flatMap(logitsOf).map((v, i) => Math.abs(v - out.logitsClean!.dataSync()[i])));
          assert.ok(cleanDiff < 1e-5, "logitsClean are the model's logits on x");
        }
      });
    });
  }

  test("pgd-at's gradient w.r.t. W is xₐᵀ(p' − onehot(y)) / B by hand", () => {
    const wv = tf.variable(tf.tensor2d(W));
    const m: Classifier = (x) => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], 2]), wv), b) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => pgdAt().loss(m, img(X), img(XADV), tf.tensor1d(Y, "int32")).loss, [wv]);
    const g = grads[wv.name].dataSync();
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < 3; k++) {
        const want = mean(XADV.map((x, n) => x[i] * (pAdv[n][k] - (Y[n] === k ? 1 : 0))));
        assert.ok(Math.abs(g[i * 3 + k] - want) < 1e-6, `dL/dW[${i}][${k}] = ${g[i * 3 + k]}, by hand ${want}`);
      }
    }
    tf.dispose([value, wv, ...Object.values(grads)]);
  });

  for (const name of Object.keys(DEFENSES)) {
    test(`${name}: craft stays in the eps ball ∩ [0,1] and is deterministic per rng state`, () => {
      const d = makeDefense({ name });
      assert.equal(d.name, name);
      assert.match(d.citation, /\d{4}/);
      const eps = 0.1;
      const x = img(X);
      const y = tf.tensor1d(Y, "int32");
      const run = () => tf.tidy(() => Array.from(d.craft(model, x, y, { eps, stepSize: 0.05, steps: 3, rng: Rng.fromSeed(1, "craft") }).dataSync()));
      const a = run();
      const xs = X.flat();
      a.forEach((v, i) => assert.ok(v >= 0 && v <= 1 && Math.abs(v - xs[i]) <= eps + 1e-6, `x'[${i}] = ${v}`));
      assert.deepEqual(run(), a);
      assert.ok(a.some((v, i) => Math.abs(v - xs[i]) > 1e-3), "the attack moved");
      tf.dispose([x, y]);
    });
  }

  test("the registry rejects an unknown defense, naming the known ones", () => {
    assert.throws(() => makeDefense({ name: "fgsm-at" }), /unknown defense "fgsm-at"; known: pgd-at, trades, mart/);
  });

  test("loss does not leak tensors", () => {
    const x = img(X);
    const xa = img(XADV);
    const y = tf.tensor1d(Y, "int32");
    const before = tf.memory().numTensors;
    for (const name of Object.keys(DEFENSES)) tf.tidy(() => makeDefense({ name }).loss(model, x, xa, y).loss).dispose();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, xa, y]);
  });
});
