/**
 * Square Attack, L-inf (Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a
 * query-efficient black-box adversarial attack via random search", ECCV 2020; reference
 * fra31/auto-attack `square.py`). Score-based random search, **no gradients**, so gradient
 * masking does not stop it. Start: vertical stripes x ± eps per (column, channel). Each query
 * proposes, per still-robust image, a square of side s at a random position whose channels are
 * set to the box corner ±eps (a ±2·eps move projected back), keeping it if the margin loss
 * z_y − max_{k≠y} z_k decreases or the image becomes misclassified. The square covers a fraction
 * p of the pixels, p following the p_init = 0.8 piecewise schedule (halving at 10, 50, 200, 500,
 * 1000, 2000, 4000, 6000, 8000 of 10000, rescaled to the query budget as AutoAttack does).
 * Windows are drawn per image as in the paper's Algorithm 1 (AutoAttack shares one per batch).
 * Defaults: 5000 queries, p_init 0.8, margin loss (AutoAttack "standard").
 * Guarantees: x' ∈ B_eps(x) ∩ [0,1]; never less adversarial than x (misclassified beats correct,
 * then larger CW margin loss).
 */
import * as tf from "@tensorflow/tfjs";
import { readFloats } from "../tensorRead";
import type { Classifier } from "./types";
import type { AttackRng } from "./attackRng";
import { crossEntropy, marginLoss } from "./losses";
import { checkAttackInputs, projectLinf } from "./linf";
import { BestPoint, evalLoss } from "./best";

export interface SquareOptions {
  /** L-inf radius in [0,1] pixel units, e.g. 8/255. */
  eps: number;
  /** Query budget per image after the initial one; default 5000. */
  queries?: number;
  /** Initial fraction of pixels in the square; default 0.8. */
  pInit?: number;
  /** Search objective: "margin" (default) or "ce" (maximize CE). */
  loss?: "margin" | "ce";
  rng: AttackRng;
}

/** The p schedule of square.py (`p_selection` with `resc_schedule`). */
export function squareFraction(it: number, queries: number, pInit: number): number {
  const i = Math.floor((it / queries) * 10000);
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  for (const b of bounds) if (i > b) halvings++;
  return pInit / 2 ** halvings;
}

/** Host-side margin z_y − max_{k≠y} z_k (≤ 0 ⇔ fooled) and the loss the search minimizes. */
async function marginAndLoss(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, loss: "margin" | "ce") {
  const [margin, l] = tf.tidy(() => {
    const logits = model(x);
    const m = tf.neg(marginLoss(logits, y));
    return [m, loss === "margin" ? tf.clone(m) : tf.neg(crossEntropy(logits, y))];
  });
  return { margin: await readFloats(margin), loss: await readFloats(l) };
}

export async function square(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: SquareOptions): Promise<tf.Tensor4D> {
  checkAttackInputs("square", x, y, opts.eps);
  const { eps, rng } = opts;
  const queries = opts.queries ?? 5000;
  const pInit = opts.pInit ?? 0.8;
  const lossName = opts.loss ?? "margin";
  const [B, H, W, C] = x.shape;

  const stripes = new Float32Array(B * W * C);
  // Row by row, each from its sample's stream (a single stream gives the same draws as one loop).
  for (let b = 0; b < B; b++) {
    const r = rng.row(b);
    for (let i = b * W * C; i < (b + 1) * W * C; i++) stripes[i] = r.next() < 0.5 ? -eps : eps;
  }
  let xBest = tf.tidy(() => tf.clipByValue(tf.add(x, tf.tensor4d(stripes, [B, 1, W, C])), 0, 1) as tf.Tensor4D);
  const { margin: marginMin, loss: lossMin } = await marginAndLoss(model, xBest, y, lossName);

  for (let it = 0; it < queries; it++) {
    const idx: number[] = [];
    marginMin.forEach((m, b) => {
      if (m > 0) idx.push(b);
    });
    if (idx.length === 0) break;
    const s = Math.min(Math.max(Math.round(Math.sqrt((squareFraction(it, queries, pInit) * H * W * C) / C)), 1), H, W);
    const delta = squareProposals(idx, H, W, C, s, eps, rng);
    const idxT = tf.tensor1d(idx, "int32");
    const ys = tf.gather(y, idxT) as tf.Tensor1D;
    const xNew = tf.tidy(() => {
      const xs = tf.gather(x, idxT) as tf.Tensor4D;
      return projectLinf(tf.add(tf.gather(xBest, idxT), tf.tensor4d(delta, [idx.length, H, W, C])) as tf.Tensor4D, xs, eps);
    });
    const r = await marginAndLoss(model, xNew, ys, lossName);
    const map = Int32Array.from({ length: B }, (_, b) => b);
    idx.forEach((b, j) => {
      const improved = r.loss[j] < lossMin[b];
      if (improved) lossMin[b] = r.loss[j];
      if (improved || r.margin[j] <= 0) {
        marginMin[b] = r.margin[j];
        map[b] = B + j;
      }
    });
    const next = tf.tidy(() => tf.gather(tf.concat([xBest, xNew]), tf.tensor1d(map, "int32")) as tf.Tensor4D);
    tf.dispose([idxT, ys, xNew, xBest]);
    xBest = next;
  }

  const clean = evalLoss(model, x, y, marginLoss);
  const best = BestPoint.start(x, clean.logits, y, clean.loss);
  const end = evalLoss(model, xBest, y, marginLoss);
  best.update(xBest, end.logits, y, end.loss);
  tf.dispose([clean.logits, clean.loss, end.logits, end.loss, xBest]);
  return best.take();
}

/** One proposal per row of `rows` [n, H, W, C]: a random s×s window with ±2·eps per channel, else 0. */
function squareProposals(rows: number[], H: number, W: number, C: number, s: number, eps: number, rng: AttackRng): Float32Array {
  const out = new Float32Array(rows.length * H * W * C);
  for (let j = 0; j < rows.length; j++) {
    const r = rng.row(rows[j]);
    const vh = Math.floor(r.next() * (H - s));
    const vw = Math.floor(r.next() * (W - s));
    const signs = Array.from({ length: C }, () => (r.next() < 0.5 ? -2 * eps : 2 * eps));
    for (let h = vh; h < vh + s; h++) {
      for (let w = vw; w < vw + s; w++) {
        const base = ((j * H + h) * W + w) * C;
        for (let c = 0; c < C; c++) out[base + c] = signs[c];
      }
    }
  }
  return out;
}
