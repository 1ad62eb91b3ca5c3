/**
 * FAB-T, the targeted L-inf Fast Adaptive Boundary attack (Croce & Hein, ICML 2020; reference
 * fra31/auto-attack `fab_pt.py`, `attack_single_run_targeted` and `perturb`), as AutoAttack's
 * "standard" version runs it: 9 target classes (the runner-ups of the clean logits), 1 restart,
 * 100 iterations, α_max = 0.1, η = 1.05, β = 0.9. Each iteration linearises z_t − z_y at the
 * iterate x₁ and projects both x₁ and the original point x₀ onto that plane inside [0,1]
 * (fabProjection.ts), then steps to the convex combination
 *   x₁ ← clip((x₁ + η d₁)(1 − α) + (x₀ + η d₂) α),  α = min(‖d₁‖/(‖d₁‖ + ‖d₂‖), α_max),
 * which biases the search towards points close to x₀. Whenever x₁ is misclassified it is kept if
 * it is the closest found so far and pulled back, x₁ ← x₀ + β(x₁ − x₀). FAB minimises the norm
 * and ignores eps while searching; a sample counts as broken only if the closest point found is
 * within eps, otherwise the clean point is returned (as `perturb` does). Restarts after the first
 * start at x₀ + min(‖δ_best‖, eps)/2 · u/‖u‖_∞, u ~ U(−1,1). Targets and restarts run only on the
 * samples still robust.
 * All tensor reads are `await data()`: the webgpu backend cannot read synchronously in Node.
 */
import * as tf from "@tensorflow/tfjs";
import type { Classifier, LossFn } from "./types";
import type { AttackRng } from "./attackRng";
import { lossAndGrad } from "./gradient";
import { checkAttackInputs } from "./linf";
import { linfNorm, projectLinfHyperplane } from "./fabProjection";

export interface FabOptions {
  /** L-inf radius in [0,1] pixel units, e.g. 8/255. */
  eps: number;
  /** Iterations per restart and target; default 100. */
  steps?: number;
  /** Restarts per target (the first from x itself); default 1. */
  restarts?: number;
  /** Number of target classes, the runner-ups of the clean logits; default 9 (capped at K−1). */
  targets?: number;
  /** Largest weight of the step from x₀; default 0.1. */
  alphaMax?: number;
  /** Overshoot past the linearised boundary; default 1.05. */
  eta?: number;
  /** Pull-back towards x₀ after a success; default 0.9. */
  beta?: number;
  rng: AttackRng;
  /**
   * Stop a run once every sample has a point within eps: later iterations only shrink the norm,
   * which cannot change which samples are broken.
   */
  stopWhenAllFooled?: boolean;
}

const NOT_FOUND = 1e10;

/** z_t − z_y per sample, the function FAB-T drives through zero. */
function targetMinusTrue(target: tf.Tensor1D): LossFn {
  return (logits, y) =>
    tf.tidy(() => {
      const K = logits.shape[1] as number;
      return tf.sum(tf.mul(logits, tf.sub(tf.oneHot(target, K), tf.oneHot(y, K))), 1) as tf.Tensor1D;
    });
}

async function predictions(model: Classifier, x: Float32Array, shape: number[]): Promise<Int32Array> {
  const pred = tf.tidy(() => tf.argMax(model(tf.tensor4d(x, shape as [number, number, number, number])), 1));
  const out = (await pred.data()) as Int32Array;
  pred.dispose();
  return out;
}

interface RunResult {
  /** The closest misclassified point found per sample (x₀ where none). */
  adv: Float32Array;
  /** Its L-inf distance from x₀, NOT_FOUND where none. */
  dist: Float64Array;
}

/** One FAB-T run (one target per sample) on n samples, all correctly classified at x₀. */
async function fabTargetedRun(
  model: Classifier,
  x0: Float32Array,
  labels: Int32Array,
  targets: Int32Array,
  shape: [number, number, number, number],
  o: Required<Omit<FabOptions, "rng" | "targets" | "restarts">> & { rng: AttackRng },
  randomStart: boolean,
): Promise<RunResult> {
  const n = shape[0];
  const D = shape[1] * shape[2] * shape[3];
  const adv = Float32Array.from(x0);
  const dist = new Float64Array(n).fill(NOT_FOUND);
  const x1 = Float32Array.from(x0);
  if (randomStart) {
    const u = o.rng.fillUniform(n * D, -1, 1);
    for (let b = 0; b < n; b++) {
      const scale = (0.5 * Math.min(dist[b], o.eps)) / Math.max(linfNorm(u.subarray(b * D, (b + 1) * D)), 1e-12);
      for (let i = b * D; i < (b + 1) * D; i++) x1[i] = Math.min(Math.max(x0[i] + scale * u[i], 0), 1);
    }
  }
  const y = tf.tensor1d(labels, "int32");
  const target = tf.tensor1d(targets, "int32");
  const f = targetMinusTrue(target);
  const d1 = new Float32Array(D);
  const d2 = new Float32Array(D);
  try {
    for (let it = 0; it < o.steps; it++) {
      const xT = tf.tensor4d(x1, shape);
      const g = lossAndGrad(model, xT, y, f);
      const [df, dg] = (await Promise.all([g.loss.data(), g.grad.data()])) as [Float32Array, Float32Array];
      tf.dispose([xT, g.logits, g.loss, g.grad]);
      for (let b = 0; b < n; b++) {
        const lo = b * D;
        const w = dg.subarray(lo, lo + D);
        const t1 = x1.subarray(lo, lo + D);
        const t0 = x0.subarray(lo, lo + D);
        // The linearised boundary at x₁: df + w·(z − x₁) = 0, i.e. w·z = w·x₁ − df.
        let wx = 0;
        for (let i = 0; i < D; i++) wx += w[i] * t1[i];
        const plane = wx - df[b];
        projectLinfHyperplane(t1, w, plane, d1);
        projectLinfHyperplane(t0, w, plane, d2);
        const a1 = Math.max(linfNorm(d1), 1e-8);
        const a2 = Math.max(linfNorm(d2), 1e-8);
        const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), o.alphaMax);
        for (let i = 0; i < D; i++) {
          const v = (t1[i] + o.eta * d1[i]) * (1 - alpha) + (t0[i] + o.eta * d2[i]) * alpha;
          t1[i] = Math.min(Math.max(v, 0), 1);
        }
      }
      const pred = await predictions(model, x1, shape);
      for (let b = 0; b < n; b++) {
        if (pred[b] === labels[b]) continue;
        const lo = b * D;
        let t = 0;
        for (let i = lo; i < lo + D; i++) t = Math.max(t, Math.abs(x1[i] - x0[i]));
        if (t < dist[b]) {
          dist[b] = t;
          adv.set(x1.subarray(lo, lo + D), lo);
        }
        for (let i = lo; i < lo + D; i++) x1[i] = x0[i] + (x1[i] - x0[i]) * o.beta;
      }
      if (o.stopWhenAllFooled && dist.every((v) => v <= o.eps)) break;
    }
  } finally {
    tf.dispose([y, target]);
  }
  return { adv, dist };
}

/** Class indices by decreasing clean logit, per sample. */
function rankedClasses(logits: Float32Array, n: number, K: number): Int32Array[] {
  return Array.from({ length: n }, (_, b) => {
    const row = logits.subarray(b * K, (b + 1) * K);
    return Int32Array.from(Array.from({ length: K }, (_, k) => k).sort((i, j) => row[j] - row[i] || i - j));
  });
}

/**
 * FAB-T on a batch: for c = 2..targets+1, target the c-th largest clean logit on the samples still
 * robust. Returns x' ∈ B_eps(x) ∩ [0,1]; clean-misclassified samples come back unchanged.
 */
export async function fabT(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: FabOptions): Promise<tf.Tensor4D> {
  checkAttackInputs("fab-t", x, y, opts.eps);
  const shape = x.shape;
  const [B, H, W, C] = shape;
  const D = H * W * C;
  const o = { eps: opts.eps, steps: opts.steps ?? 100, alphaMax: opts.alphaMax ?? 0.1, eta: opts.eta ?? 1.05, beta: opts.beta ?? 0.9, rng: opts.rng, stopWhenAllFooled: opts.stopWhenAllFooled ?? false };
  const restarts = opts.restarts ?? 1;
  const logitsT = tf.tidy(() => model(x));
  const K = logitsT.shape[1] as number;
  const [xs, labels, logits] = (await Promise.all([x.data(), y.data(), logitsT.data()])) as [Float32Array, Int32Array, Float32Array];
  logitsT.dispose();
  const out = Float32Array.from(xs);
  const ranked = rankedClasses(logits, B, K);
  const robust = Array.from({ length: B }, (_, b) => ranked[b][0] === labels[b]);
  const targets = Math.min(opts.targets ?? 9, K - 1);
  for (let c = 1; c <= targets; c++) {
    for (let r = 0; r < restarts; r++) {
      const idx: number[] = [];
      robust.forEach((ok, b) => {
        if (ok) idx.push(b);
      });
      if (idx.length === 0) return tf.tensor4d(out, shape);
      const x0 = new Float32Array(idx.length * D);
      idx.forEach((b, j) => x0.set(xs.subarray(b * D, (b + 1) * D), j * D));
      const res = await fabTargetedRun(
        model,
        x0,
        Int32Array.from(idx, (b) => labels[b]),
        Int32Array.from(idx, (b) => ranked[b][c]),
        [idx.length, H, W, C],
        { ...o, rng: o.rng.rows(idx) },
        r > 0,
      );
      idx.forEach((b, j) => {
        if (res.dist[j] > o.eps) return;
        out.set(res.adv.subarray(j * D, (j + 1) * D), b * D);
        robust[b] = false;
      });
    }
  }
  return tf.tensor4d(out, shape);
}
