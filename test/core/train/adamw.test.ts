import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { AdamW, AdamWArgs, globalNorm, learningRate } from "../../../src/core/train/adamw";

const close = (a: number, b: number, tol = 1e-6, what = "") => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${a} ≠ ${b}`);
const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const NO_DECAY: AdamWArgs = { beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 0 };

/** Adam by hand for one scalar (Kingma & Ba 2015, Alg. 1 + Loshchilov & Hutter's decoupled decay). */
function adamByHand(x0: number, grads: number[], lrs: number[], b1: number, b2: number, wd: number, eps = 1e-8): number[] {
  let x = x0, m = 0, v = 0;
  const xs: number[] = [];
  grads.forEach((g, i) => {
    const t = i + 1;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    const mh = m / (1 - b1 ** t);
    const vh = v / (1 - b2 ** t);
    x = x - lrs[i] * (mh / (Math.sqrt(vh) + eps)) - lrs[i] * wd * x;
    xs.push(x);
  });
  return xs;
}

describe("AdamW", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("first update moves by lr·sign(g): m̂ = g, v̂ = g²", async () => {
    const x = tf.variable(tf.tensor1d([1, -2, 3]));
    const opt = new AdamW({ x }, NO_DECAY);
    const g = tf.tensor1d([0.5, -4, 1e-3]);
    const norm = await opt.apply({ x: g }, 0.1);
    close(norm, Math.sqrt(0.25 + 16 + 1e-6), 1e-6, "returned norm");
    const got = arr(x);
    // x − 0.1 · g/(|g| + 1e-8)
    [1 - 0.1, -2 + 0.1, 3 - 0.1 * (1e-3 / (1e-3 + 1e-8))].forEach((w, i) => close(got[i], w, 1e-6, `x[${i}]`));
    assert.equal(opt.t, 1);
    tf.dispose([x, g]);
    opt.dispose();
  });

  test("two updates match Adam by hand (different gradients and learning rates)", async () => {
    const x = tf.variable(tf.scalar(1));
    const opt = new AdamW({ x }, NO_DECAY);
    const grads = [0.5, -1];
    const lrs = [0.1, 0.05];
    const want = adamByHand(1, grads, lrs, 0.9, 0.999, 0);
    // Second step by hand: m = 0.9·0.05 − 0.1 = −0.055, v = 0.999·2.5e-4 + 1e-3 = 1.24975e-3,
    // m̂ = −0.055/0.19, v̂ = 1.24975e-3/0.001999 → x = 0.9 + 0.05·0.366103… ≈ 0.918305.
    close(want[1], 0.9183052, 1e-6, "hand value");
    for (const [i, g] of grads.entries()) {
      const gt = tf.scalar(g);
      await opt.apply({ x: gt }, lrs[i]);
      gt.dispose();
      close(x.dataSync()[0], want[i], 1e-6, `after step ${i + 1}`);
    }
    x.dispose();
    opt.dispose();
  });

  test("decoupled weight decay applies to matrices only", async () => {
    const w = tf.variable(tf.tensor2d([[1, -2], [4, 0.5]]));
    const b = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW({ w, b }, { ...NO_DECAY, weightDecay: 0.1 });
    // Zero gradients: Adam's step is 0/(0 + eps) = 0, so only the decay moves the weights.
    const gw = tf.zeros([2, 2]);
    const gb = tf.zeros([2]);
    await opt.apply({ w: gw, b: gb }, 0.5);
    assert.deepEqual(arr(w), [1, -2, 4, 0.5].map((v) => Math.fround(v * (1 - 0.05))));
    assert.deepEqual(arr(b), [1, -2]);
    // With a gradient, decay uses the pre-update weight (PyTorch AdamW order).
    const x = tf.variable(tf.tensor2d([[2]]));
    const opt2 = new AdamW({ x }, { ...NO_DECAY, weightDecay: 0.01 });
    const gx = tf.tensor2d([[3]]);
    await opt2.apply({ x: gx }, 0.1);
    close(x.dataSync()[0], adamByHand(2, [3], [0.1], 0.9, 0.999, 0.01)[0], 1e-6);
    close(x.dataSync()[0], 2 - 0.1 - 0.1 * 0.01 * 2, 1e-6);
    tf.dispose([w, b, gw, gb, x, gx]);
    opt.dispose();
    opt2.dispose();
  });

  test("gradient clipping rescales by gradClip / global norm (and 0 disables it)", async () => {
    for (const clip of [1, 0, 10]) {
      const a = tf.variable(tf.tensor1d([0, 0]));
      const opt = new AdamW({ a }, { ...NO_DECAY, gradClip: clip });
      const g = tf.tensor1d([3, 4]); // norm 5
      const norm = await opt.apply({ a: g }, 0.1);
      assert.equal(norm, 5, "the norm before clipping is returned");
      const scale = clip > 0 && 5 > clip ? clip / 5 : 1;
      const m = arr(opt.stateTensors()["m.a"]);
      const v = arr(opt.stateTensors()["v.a"]);
      close(m[0], 0.1 * 3 * scale, 1e-6, `m[0] clip ${clip}`);
      close(m[1], 0.1 * 4 * scale, 1e-6, `m[1] clip ${clip}`);
      close(v[1], 0.001 * (4 * scale) ** 2, 1e-6, `v[1] clip ${clip}`);
      tf.dispose([a, g]);
      opt.dispose();
    }
    const ts = [tf.tensor1d([1, 2]), tf.tensor2d([[2]])];
    assert.equal(await globalNorm(ts), 3);
    assert.equal(await globalNorm([]), 0);
    tf.dispose(ts);
  });

  test("a variable without a gradient keeps its value and moments; an unknown gradient is an error", async () => {
    const a = tf.variable(tf.tensor1d([1]));
    const b = tf.variable(tf.tensor1d([1]));
    const opt = new AdamW({ a, b }, NO_DECAY);
    const g = tf.tensor1d([1]);
    await opt.apply({ a: g }, 0.1);
    assert.deepEqual(arr(b), [1]);
    assert.deepEqual(arr(opt.stateTensors()["m.b"]), [0]);
    await assert.rejects(() => opt.apply({ c: g }, 0.1), /gradient for unknown variable "c"/);
    tf.dispose([a, b, g]);
    opt.dispose();
  });

  test("stateTensors/restore round trip continues bit-exactly", async () => {
    const make = () => ({ w: tf.variable(tf.tensor2d([[1, 2], [3, 4]])), b: tf.variable(tf.tensor1d([0.5, -0.5])) });
    const args: AdamWArgs = { beta1: 0.8, beta2: 0.99, weightDecay: 0.05, gradClip: 2 };
    const grads = [
      { w: tf.tensor2d([[0.1, -0.2], [0.3, 0.9]]), b: tf.tensor1d([1, 2]) },
      { w: tf.tensor2d([[-1, 0.2], [0, 0.4]]), b: tf.tensor1d([-0.3, 0.1]) },
      { w: tf.tensor2d([[0.5, 0.5], [-0.5, 2]]), b: tf.tensor1d([0, 1]) },
    ];
    const ref = make();
    const refOpt = new AdamW(ref, args);
    for (const [i, g] of grads.entries()) await refOpt.apply(g, 0.01 * (i + 1));

    const first = make();
    const firstOpt = new AdamW(first, args);
    await firstOpt.apply(grads[0], 0.01);
    await firstOpt.apply(grads[1], 0.02);
    // Copy everything (as a checkpoint on disk would), then continue in a fresh optimizer.
    const saved = Object.fromEntries(Object.entries(firstOpt.stateTensors()).map(([k, t]) => [k, t.clone()]));
    const savedVars = { w: first.w.clone(), b: first.b.clone() };
    const resumed = { w: tf.variable(savedVars.w), b: tf.variable(savedVars.b) };
    const resumedOpt = new AdamW(resumed, args);
    resumedOpt.restore(saved, firstOpt.t);
    assert.equal(resumedOpt.t, 2);
    await resumedOpt.apply(grads[2], 0.03);
    assert.deepEqual(arr(resumed.w), arr(ref.w));
    assert.deepEqual(arr(resumed.b), arr(ref.b));
    for (const [k, t] of Object.entries(refOpt.stateTensors())) assert.deepEqual(arr(resumedOpt.stateTensors()[k]), arr(t), k);

    const { ["v.b"]: _dropped, ...missing } = saved;
    assert.throws(() => resumedOpt.restore(missing, 2), /missing optimizer tensor "v\.b"/);
    const wrong = { ...saved, "m.w": tf.zeros([3]) };
    assert.throws(() => resumedOpt.restore(wrong, 2), /optimizer tensor "m\.w" has shape \[3\], expected \[2,2\]/);

    tf.dispose([...Object.values(ref), ...Object.values(first), ...Object.values(resumed), ...Object.values(saved), ...Object.values(savedVars), wrong["m.w"]]);
    grads.forEach((g) => tf.dispose(Object.values(g)));
    [refOpt, firstOpt, resumedOpt].forEach((o) => o.dispose());
  });

  test("apply does not leak tensors", async () => {
    const w = tf.variable(tf.randomNormal([4, 4]));
    const opt = new AdamW({ w }, { ...NO_DECAY, weightDecay: 0.1, gradClip: 0.5 });
    const g = tf.randomNormal([4, 4]);
    await opt.apply({ w: g }, 0.1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await opt.apply({ w: g }, 0.1);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([w, g]);
    opt.dispose();
  });
});

describe("learningRate: linear warm-up then cosine decay", () => {
  // total 110, warm-up 10, peak 1, floor 0.1: cosine over steps 10..110.
  const cases: Array<[step: number, want: number]> = [
    [0, 0.1],
    [4, 0.5],
    [9, 1],
    [10, 1],
    [35, 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4))], // 0.8681981
    [60, 0.55],
    [85, 0.1 + 0.9 * 0.5 * (1 + Math.cos((3 * Math.PI) / 4))], // 0.2318019
    [110, 0.1],
    [500, 0.1],
  ];
  for (const [step, want] of cases) {
    test(`step ${step} → ${want.toFixed(7)}`, () => close(learningRate(step, 110, 1, 10, 0.1), want, 1e-12));
  }

  test("no warm-up starts at the peak; scaling by peak is linear", async () => {
    close(learningRate(0, 100, 3e-4, 0, 0.05), 3e-4, 1e-12);
    close(learningRate(50, 100, 2, 0, 0.05), 2 * (0.05 + 0.95 * 0.5), 1e-12);
  });

  test("never exceeds the peak, even with a fractional warm-up (pretrain uses steps/10)", async () => {
    for (const warmup of [0, 0.5, 1.5, 2.5, 10]) {
      for (let step = 0; step < 30; step++) {
        const lr = learningRate(step, 25, 1, warmup, 0.02);
        assert.ok(lr > 0 && lr <= 1, `warm-up ${warmup}, step ${step}: lr ${lr}`);
      }
    }
  });
});
