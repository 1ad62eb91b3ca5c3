/**
 * PGD, L-inf (Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks",
 * ICLR 2018). Loss: cross-entropy by default; "margin" gives CW-inf; any `LossFn` may be passed
 * (training code reuses this for PGD-AT and MART). Defaults: eps 8/255 (caller's), step eps/4
 * (= 2/255 at 8/255), 10 steps, uniform random start in the eps ball, 1 restart.
 * Inputs are pixels in [0,1]; the model is used as a pure function (no train-mode layers).
 * Guarantees: x' ∈ B_eps(x) ∩ [0,1] (up to float32 rounding, ≲1e-7); with keep "best" (default)
 * x' is per sample the most adversarial point seen over all restarts and iterates, with the clean
 * point as the first candidate, so it is never less adversarial than x (misclassified beats
 * correct, then higher loss). keep "last" returns the final iterate (what PGD-AT trains on).
 */
import * as tf from "@tensorflow/tfjs";
import type { Classifier, LossFn } from "./types";
import type { AttackRng } from "./attackRng";
import { LossName, resolveLoss } from "./losses";
import { checkAttackInputs, projectLinf, uniformNoise } from "./linf";
import { signedGradientAscent, signedGradientAscentAsync } from "./ascent";
import { BestPoint, evalLoss } from "./best";

export interface PgdOptions {
  /** L-inf radius in [0,1] pixel units, e.g. 8/255. */
  eps: number;
  /** Step α; default eps/4 (2/255 at 8/255). */
  stepSize?: number;
  /** Iterations per restart; default 10. */
  steps?: number;
  /** Start from x + U(−eps, eps) (default true); needs `rng`. */
  randomStart?: boolean;
  /** Independent random starts; default 1. */
  restarts?: number;
  /** Objective to maximize: "ce" (default), "margin" (CW), "dlr", or a custom per-sample LossFn. */
  loss?: LossName | LossFn;
  /** Seeded stream for the random start; same state ⇒ same result. */
  rng?: AttackRng;
  /** "best" (default): most adversarial point seen; "last": the final iterate. */
  keep?: "best" | "last";
  /** Stop a restart once every sample is misclassified (evaluation speed-up; keep "best" only). */
  stopWhenAllFooled?: boolean;
}

function startPoint(x: tf.Tensor4D, eps: number, randomStart: boolean, rng: AttackRng | undefined): tf.Tensor4D {
  if (!randomStart) return tf.clone(x);
  if (!rng) throw new Error("pgd: randomStart needs opts.rng (a seeded Rng)");
  return tf.tidy(() => projectLinf(tf.add(x, uniformNoise(x.shape, eps, rng)) as tf.Tensor4D, x, eps));
}

/** The options of `pgd` checked and defaulted. */
function pgdSettings(x: tf.Tensor4D, y: tf.Tensor1D, opts: PgdOptions) {
  checkAttackInputs("pgd", x, y, opts.eps);
  const eps = opts.eps;
  const stepSize = opts.stepSize ?? eps / 4;
  const steps = opts.steps ?? 10;
  const restarts = opts.restarts ?? 1;
  const randomStart = opts.randomStart ?? true;
  const loss = resolveLoss(opts.loss ?? "ce");
  if (!(steps >= 0 && Number.isInteger(steps))) throw new Error(`pgd: steps must be a non-negative integer, got ${steps}`);
  if (!(restarts >= 1 && Number.isInteger(restarts))) throw new Error(`pgd: restarts must be an integer ≥ 1, got ${restarts}`);
  return { eps, stepSize, steps, restarts, randomStart, loss, rng: opts.rng };
}

/**
 * PGD whose result is the final iterate (`keep: "last"`), synchronous: no value is read back
 * from the device, so the training crafts (defenses, merge) stay free of awaits.
 */
export function pgdLastIterate(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: Omit<PgdOptions, "keep" | "stopWhenAllFooled">): tf.Tensor4D {
  const s = pgdSettings(x, y, opts);
  return pgdLast(model, x, y, s.loss, s);
}

/**
 * PGD. Async because early stopping (`stopWhenAllFooled`) reads a flag from the device, which
 * webgpu can do only asynchronously (../tensorRead.ts).
 */
export async function pgd(model: Classifier, x: tf.Tensor4D, y: tf.Tensor1D, opts: PgdOptions): Promise<tf.Tensor4D> {
  const { eps, stepSize, steps, restarts, randomStart, loss } = pgdSettings(x, y, opts);
  if ((opts.keep ?? "best") === "last") return pgdLast(model, x, y, loss, { eps, stepSize, steps, restarts, randomStart, rng: opts.rng });

  const clean = evalLoss(model, x, y, loss);
  const best = BestPoint.start(x, clean.logits, y, clean.loss);
  clean.logits.dispose();
  clean.loss.dispose();
  const stopEarly = opts.stopWhenAllFooled ?? false;
  for (let r = 0; r < restarts; r++) {
    if (stopEarly && (await best.allFooled())) break;
    const start = startPoint(x, eps, randomStart, opts.rng);
    const final = await signedGradientAscentAsync(model, x, y, start, loss, {
      eps,
      stepSize,
      steps,
      onIterate: async (xk, logits, l) => {
        best.update(xk, logits, y, l);
        return stopEarly && (await best.allFooled());
      },
    });
    start.dispose();
    const end = evalLoss(model, final, y, loss);
    best.update(final, end.logits, y, end.loss);
    tf.dispose([final, end.logits, end.loss]);
  }
  return best.take();
}

/** Final iterate of each restart; several restarts are compared by (misclassified, loss). */
function pgdLast(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  loss: LossFn,
  o: { eps: number; stepSize: number; steps: number; restarts: number; randomStart: boolean; rng?: AttackRng },
): tf.Tensor4D {
  let best: BestPoint | undefined;
  for (let r = 0; r < o.restarts; r++) {
    const start = startPoint(x, o.eps, o.randomStart, o.rng);
    const final = signedGradientAscent(model, x, y, start, loss, o);
    start.dispose();
    if (o.restarts === 1) return final;
    const end = evalLoss(model, final, y, loss);
    if (!best) best = BestPoint.start(final, end.logits, y, end.loss);
    else best.update(final, end.logits, y, end.loss);
    tf.dispose([final, end.logits, end.loss]);
  }
  return best!.take();
}
