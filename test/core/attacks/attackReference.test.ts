// Our attacks against independent implementations: test/fixtures/attack-reference/linear.json holds
// a seeded linear classifier on 16 uniform 8×8×3 inputs and the answers of torchattacks (FGSM, PGD,
// UPGD with decay 0 and the CW margin) and AutoAttack (APGDAttack, APGDAttack_targeted single runs
// from the start our Rng draws), written by `bench/attack_reference.py --fixture` (the reference
// code runs there, never here; bench/RESULTS.md "Attacks against independent implementations").
// Without random starts both sides walk the same iterates, so the points and the loss along the
// whole APGD trajectory must agree to float32 rounding.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Rng } from "../../../src/core/rng";
import { fgsm } from "../../../src/core/attacks/fgsm";
import { pgdLastIterate } from "../../../src/core/attacks/pgd";
import { apgdRun } from "../../../src/core/attacks/apgd";
import { crossEntropy, targetedDlrLoss } from "../../../src/core/attacks/losses";
import type { Classifier, LossFn } from "../../../src/core/attacks/types";

interface ApgdCase {
  steps: number;
  targetRank: number;
  startSeed: number;
  startStream: string;
  startT: string;
  /** Reference loss at each iterate, [steps + 1, B] (the start, then every step). */
  loss: string;
  fooled: boolean[];
  lossBest: string;
}

interface Fixture {
  shape: [number, number, number, number];
  classes: number;
  eps: number;
  layers: { rows: number; cols: number; w: string; b: string }[];
  labels: number[];
  x: string;
  fgsm: string;
  pgd: { steps: number; stepSize: number; adv: string };
  cw: { steps: number; stepSize: number; adv: string };
  "apgd-ce-det": ApgdCase;
  "apgd-t-det": ApgdCase;
}

const fixture = JSON.parse(readFileSync(join(__dirname, "..", "..", "fixtures", "attack-reference", "linear.json"), "utf8")) as Fixture;

/** The fixture stores float32 arrays as little-endian base64. */
function f32(b64: string): Float32Array {
  const buf = Buffer.from(b64, "base64");
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "arrays of different lengths");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("attacks agree with torchattacks and AutoAttack on a linear model (fixture)", () => {
  const [B, H, W, C] = fixture.shape;
  const D = H * W * C;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  let w: tf.Tensor2D;
  let b: tf.Tensor1D;
  let model: Classifier;
  before(async () => {
    await selectTestBackend();
    x = tf.tensor4d(f32(fixture.x), fixture.shape);
    y = tf.tensor1d(fixture.labels, "int32");
    const [layer] = fixture.layers;
    w = tf.tensor2d(f32(layer.w), [layer.rows, layer.cols]);
    b = tf.tensor1d(f32(layer.b));
    model = (xi) => tf.tidy(() => tf.add(tf.matMul(tf.reshape(xi, [xi.shape[0], D]), w), b) as tf.Tensor2D);
  });
  after(() => tf.dispose([x, y, w, b]));

  test("the labels are the model's own predictions, as when the reference ran", async () => {
    const pred = tf.tidy(() => tf.argMax(model(x), 1));
    assert.deepEqual(Array.from(await pred.data()), fixture.labels);
    pred.dispose();
  });

  test("FGSM lands on torchattacks.FGSM's point", async () => {
    const adv = fgsm(model, x, y, { eps: fixture.eps });
    const d = maxAbsDiff(await adv.data(), f32(fixture.fgsm));
    adv.dispose();
    assert.ok(d <= 1e-6, `max |x'_ours − x'_ref| = ${d}`);
  });

  for (const [name, loss] of [["pgd", "ce"], ["cw", "margin"]] as const) {
    test(`${name === "pgd" ? "PGD" : "CW-inf"} without random start ends where torchattacks' ${name === "pgd" ? "PGD" : "UPGD (decay 0, CW margin)"} ends`, async () => {
      const ref = fixture[name];
      const adv = pgdLastIterate(model, x, y, { eps: fixture.eps, steps: ref.steps, stepSize: ref.stepSize, randomStart: false, loss });
      const d = maxAbsDiff(await adv.data(), f32(ref.adv));
      adv.dispose();
      assert.ok(d <= 1e-6, `max |x_${ref.steps} ours − ref| = ${d}`);
    });
  }

  for (const key of ["apgd-ce-det", "apgd-t-det"] as const) {
    test(`${key === "apgd-ce-det" ? "APGD-CE" : "APGD-T"} from the same start follows AutoAttack's trajectory: every iterate's loss, the best loss and who is fooled`, async () => {
      const ref = fixture[key];
      // apgdRun's first draw from its rng is the start noise t (apgd.ts randomStart); the fixture kept t.
      const t = Rng.fromSeed(ref.startSeed, ref.startStream).fillUniform(B * D, -1, 1);
      assert.equal(maxAbsDiff(t, f32(ref.startT)), 0, "Rng no longer draws the start the reference was given");
      const target =
        ref.targetRank > 1
          ? tf.tidy(() => tf.reshape(tf.slice(tf.topk(model(x), ref.targetRank).indices, [0, ref.targetRank - 1], [-1, 1]), [-1]) as tf.Tensor1D)
          : undefined;
      const loss: LossFn = target ? targetedDlrLoss(target) : crossEntropy;
      const seen: tf.Tensor4D[] = [];
      const recording: Classifier = (xi) => {
        seen.push(tf.keep(tf.clone(xi))); // tf.grad tidies what its function makes
        return model(xi);
      };
      const best = await apgdRun(recording, x, y, loss, { eps: fixture.eps, steps: ref.steps, rng: Rng.fromSeed(ref.startSeed, ref.startStream) });
      const fooled = await best.fooledFlags();
      best.dispose();
      // seen[0] is the clean x (the best-point seed); then the start and one point per step.
      assert.equal(seen.length, ref.steps + 2);
      const ours = new Float32Array((ref.steps + 1) * B);
      for (let i = 1; i < seen.length; i++) {
        const l = tf.tidy(() => loss(model(seen[i]), y));
        ours.set(await l.data(), (i - 1) * B);
        l.dispose();
      }
      tf.dispose(seen);
      const refLoss = f32(ref.loss);
      const worst = maxAbsDiff(ours, refLoss);
      assert.ok(worst <= 1e-5, `max |loss_ours − loss_ref| over ${ref.steps + 1} iterates × ${B} samples = ${worst}`);
      const bestOurs = Array.from({ length: B }, (_, s) => Math.max(...Array.from({ length: ref.steps + 1 }, (_, i) => ours[i * B + s])));
      assert.ok(maxAbsDiff(bestOurs, f32(ref.lossBest)) <= 1e-5, "best loss differs from AutoAttack's loss_best");
      assert.deepEqual(fooled, ref.fooled);
      target?.dispose();
    });
  }
});
