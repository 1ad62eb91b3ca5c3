/**
 * APGD-CE and APGD-T, L-inf (Croce & Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020, Alg. 1; reference fra31/auto-attack
 * `autopgd_base.py`). Step size starts at 2·eps and is halved per sample at checkpoints
 * w_j (first after 0.22·N_iter iterations, then intervals shrinking by 0.03·N_iter down to
 * 0.06·N_iter) when either (1) the loss increased in at most ρ = 0.75 of the steps since the
 * last checkpoint, or (2) the step was not reduced at the last checkpoint and the best loss has
 * not improved since; after halving, the iterate restarts from the best point. Momentum 0.75:
 *   z = Π(x_k + η sign ∇),  x_{k+1} = Π(x_k + 0.75 (z − x_k) + 0.25 (x_k − x_{k−1})).
 * Start: x + eps·t/‖t‖_∞, t ~ U(−1,1). Losses: CE (APGD-CE) or targeted DLR over the top-k
 * (default 9) classes of the clean logits (APGD-T). Defaults: 100 iterations, 1 restart, as in
 * AutoAttack "standard". Restarts and targets run only on samples not yet fooled.
 * Guarantees: x' ∈ B_eps(x) ∩ [0,1]; per sample the most adversarial point seen (misclassified
 * beats correct, then higher loss) with the clean point as first candidate.
 */
import * as tf from "@tensorflow/tfjs";
import type { Classifier, LossFn } from "./types";
import type { AttackRng } from "./attackRng";
import { crossEntropy, dlrLoss, targetedDlrLoss } from "./losses";
import { lossAndGrad } from "./gradient";
import { checkAttackInputs, projectLinf } from "./linf";
import { BestPoint, SuccessFn, evalLoss, selectSamples } from "./best";
import { runOnSurvivors } from "./survivors";
import { readAndDispose } from "../tensorRead";

const RHO = 0.75;
const MOMENTUM = 0.75;

export interface ApgdOptions {
  /** L-inf radius in [0,1] pixel units, e.g. 8/255. */
  eps: number;
  /** Iterations N_iter per restart; default 100. */
  steps?: number;
  /** Restarts (each only on samples still robust); default 1. */
  restarts?: number;
  /** "ce" (APGD-CE, default) or "dlr" (APGD-DLR). */
  loss?: "ce" | "dlr";
  rng: AttackRng;
  /** Stop once every sample in the batch is misclassified. */
  stopWhenAllFooled?: boolean;
}

export interface ApgdTargetedOptions extends Omit<ApgdOptions, "loss"> {
  /** Number of target classes, the runner-ups of the clean logits; default 9 (capped at K−1). */
  targets?: number;
}

/** The checkpoint schedule constants of autopgd_base.py. */
export function apgdSchedule(steps: number): { first: number; min: number; decrease: number } {
  return {
    first: Math.max(Math.floor(0.22 * steps), 1),
    min: Math.max(Math.floor(0.06 * steps), 1),
    decrease: Math.max(Math.floor(0.03 * steps), 1),
  };
}

/** Condition (1): the loss increased in at most ρ·k of the last k steps (index < 0 reads 0). */
function oscillates(lossSteps: Float32Array[], i: number, k: number, b: number): boolean {
  let increases = 0;
  for (let c = 0; c < k; c++) {
    const now = lossSteps[i - c]?.[b] ?? 0;
    const prev = lossSteps[i - c - 1]?.[b] ?? 0;
    if (now > prev) increases++;
  }
  return increases <= k * RHO;
}

function randomStart(x: tf.Tensor4D, eps: number, rng: AttackRng): tf.Tensor4D {
  return tf.tidy(() => {
    const t = tf.tensor(rng.fillUniform(x.size, -1, 1), x.shape);
    const scale = tf.add(tf.max(tf.abs(t), [1, 2, 3], true), 1e-12);
    return tf.clipByValue(tf.add(x, tf.mul(tf.div(t, scale), eps)), 0, 1) as tf.Tensor4D;
  });
}

/** One APGD run (Alg. 1) on a batch; returns the per-sample best point. */
export async function apgdRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  loss: LossFn,
  o: { eps: number; steps: number; rng: AttackRng; stopWhenAllFooled?: boolean; success?: SuccessFn },
): Promise<BestPoint> {
  const B = x.shape[0];
  const sched = apgdSchedule(o.steps);
  const clean = evalLoss(model, x, y, loss);
  const best = BestPoint.start(x, clean.logits, y, clean.loss, o.success);
  tf.dispose([clean.logits, clean.loss]);

  let xAdv = randomStart(x, o.eps, o.rng);
  let g = lossAndGrad(model, xAdv, y, loss);
  best.update(xAdv, g.logits, y, g.loss);
  let grad = g.grad;
  const lossBest = Float32Array.from(await g.loss.data());
  tf.dispose([g.logits, g.loss]);
  let xBest = tf.clone(xAdv);
  let gradBest = tf.clone(grad);
  let xOld = tf.clone(xAdv);
  const step = new Float32Array(B).fill(2 * o.eps);
  const lossSteps: Float32Array[] = [];
  let k = sched.first;
  let sinceCheck = 0;
  let lossBestLastCheck = lossBest.slice();
  let reducedLastCheck: boolean[] = new Array(B).fill(true);

  for (let i = 0; i < o.steps; i++) {
    const a = i > 0 ? MOMENTUM : 1;
    const next = tf.tidy(() => {
      const eta = tf.tensor(step, [B, 1, 1, 1]);
      const z = projectLinf(tf.add(xAdv, tf.mul(eta, tf.sign(grad))) as tf.Tensor4D, x, o.eps);
      const moved = tf.add(tf.add(xAdv, tf.mul(tf.sub(z, xAdv), a)), tf.mul(tf.sub(xAdv, xOld), 1 - a));
      return projectLinf(moved as tf.Tensor4D, x, o.eps);
    });
    xOld.dispose();
    xOld = xAdv;
    xAdv = next;
    grad.dispose();
    g = lossAndGrad(model, xAdv, y, loss);
    grad = g.grad;
    best.update(xAdv, g.logits, y, g.loss);
    const l = Float32Array.from(await g.loss.data());
    tf.dispose([g.logits, g.loss]);
    lossSteps.push(l);

    const improved = Array.from(l, (v, b) => v > lossBest[b]);
    if (improved.some(Boolean)) {
      const m = tf.tensor1d(improved.map(Number), "bool");
      [xBest, gradBest] = replaceWhere(m, [xAdv, grad], [xBest, gradBest]);
      m.dispose();
      improved.forEach((imp, b) => {
        if (imp) lossBest[b] = l[b];
      });
    }

    if (++sinceCheck === k) {
      // Checkpoint w_j: halve the step where progress stalled and go back to the best point.
      const reduce = Array.from({ length: B }, (_, b) =>
        oscillates(lossSteps, i, k, b) || (!reducedLastCheck[b] && lossBestLastCheck[b] >= lossBest[b]),
      );
      reducedLastCheck = reduce;
      lossBestLastCheck = lossBest.slice();
      if (reduce.some(Boolean)) {
        reduce.forEach((r, b) => {
          if (r) step[b] /= 2;
        });
        const m = tf.tensor1d(reduce.map(Number), "bool");
        [xAdv, grad] = replaceWhere(m, [xBest, gradBest], [xAdv, grad]);
        m.dispose();
      }
      k = Math.max(k - sched.decrease, sched.min);
      sinceCheck = 0;
    }
    if (o.stopWhenAllFooled && (await best.allFooled())) break;
  }
  tf.dispose([xAdv, xOld, grad, xBest, gradBest]);
  return best;
}

/** Per sample: `from` rows where mask, else `into` rows; disposes the replaced `into` tensors. */
function replaceWhere(mask: tf.Tensor1D, from: tf.Tensor4D[], into: tf.Tensor4D[]): tf.Tensor4D[] {
  return into.map((t, j) => {
    const r = selectSamples(mask, from[j], t);
    t.dispose();
    return r;
  });
}

async function fooledOf(best: BestPoint | Promise<BestPoint>): Promise<{ xAdv: tf.Tensor4D; fooled: boolean[] }> {
  const b = await best;
  const fooled = await b.fooledFlags();
  return { xAdv: b.take(), fooled };
}

async function cleanFooled(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): Promise<boolean[]> {
  return Array.from(await readAndDispose(tf.tidy(() => tf.notEqual(tf.argMax(model(x), 1), y))), (v) => v === 1);
}

/** APGD-CE (or APGD-DLR with loss "dlr"). */
export async function apgd(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: ApgdOptions): Promise<tf.Tensor4D> {
  checkAttackInputs("apgd", x, y, opts.eps);
  const steps = opts.steps ?? 100;
  const loss = (opts.loss ?? "ce") === "ce" ? crossEntropy : dlrLoss;
  const state = { x: tf.clone(x), fooled: await cleanFooled(model, x, y) };
  for (let r = 0; r < (opts.restarts ?? 1); r++) {
    await runOnSurvivors(state, x, y, (xs, ys, rows) => fooledOf(apgdRun(model, xs, ys, loss, { ...opts, steps, rng: opts.rng.rows(rows) })));
  }
  return state.x;
}

/**
 * APGD-T: for c = 2..targets+1, target the c-th largest clean logit on the samples still robust
 * (AutoAttack "standard": 9 targets, 1 restart each, 100 iterations). Needs ≥ 4 classes.
 */
export async function apgdT(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: ApgdTargetedOptions): Promise<tf.Tensor4D> {
  checkAttackInputs("apgd-t", x, y, opts.eps);
  const steps = opts.steps ?? 100;
  const state = { x: tf.clone(x), fooled: await cleanFooled(model, x, y) };
  const K = tf.tidy(() => model(tf.slice(x, [0, 0, 0, 0], [1, -1, -1, -1])).shape[1] as number);
  const targets = Math.min(opts.targets ?? 9, K - 1);
  for (let c = 1; c <= targets; c++) {
    for (let r = 0; r < (opts.restarts ?? 1); r++) {
      await runOnSurvivors(state, x, y, async (xs, ys, rows) => {
        const target = tf.tidy(() => {
          const { indices } = tf.topk(model(xs), c + 1);
          return tf.reshape(tf.slice(indices, [0, c], [-1, 1]), [-1]) as tf.Tensor1D;
        });
        const best = await apgdRun(model, xs, ys, targetedDlrLoss(target), { ...opts, steps, rng: opts.rng.rows(rows) });
        target.dispose();
        return fooledOf(best);
      });
    }
  }
  return state.x;
}
