/**
 * Per-sample attack objectives, all written so that *larger = more adversarial* (attacks
 * maximize them). Each takes logits `[B, K]` and int32 labels `[B]` and returns `[B]`.
 * Sorted-logit values are gathered through one-hot masks of `tf.topk` indices: the indices are
 * constants, so gradients flow to the selected logits exactly as PyTorch's `sort` does in
 * fra31/auto-attack.
 */
import * as tf from "@tensorflow/tfjs";
import type { LossFn } from "./types";

function checkLogits(name: string, logits: tf.Tensor, y: tf.Tensor, minClasses: number): number {
  if (logits.rank !== 2) throw new Error(`${name}: logits must be [B, K], got shape [${logits.shape}]`);
  if (y.rank !== 1 || y.shape[0] !== logits.shape[0]) {
    throw new Error(`${name}: labels must be [${logits.shape[0]}] for logits [${logits.shape}], got [${y.shape}]`);
  }
  const K = logits.shape[1] as number;
  if (K < minClasses) throw new Error(`${name} needs at least ${minClasses} classes, logits have ${K}`);
  return K;
}

/** z[b, idx[b]] as `[B]`, differentiable in z. */
function pick(z: tf.Tensor2D, idx: tf.Tensor1D, K: number): tf.Tensor1D {
  return tf.sum(tf.mul(z, tf.oneHot(idx, K)), 1) as tf.Tensor1D;
}

/**
 * One-hot mask of the k-th largest logit per row, `[B, K]`, as a gradient constant. tfjs has no
 * TopK gradient and no stopGradient; customGrad hides the sort from the tape and says "zero".
 */
const kthLargestMask = (k: number) =>
  tf.customGrad((...args) => {
    const z = args[0] as tf.Tensor;
    return {
      value: tf.tidy(() => {
        const idx = tf.reshape(tf.slice(tf.topk(z, k + 1).indices, [0, k], [-1, 1]), [-1]) as tf.Tensor1D;
        return tf.oneHot(idx, z.shape[1] as number, 1, 0, "float32");
      }),
      gradFunc: () => tf.zerosLike(z),
    };
  });

/** The k-th largest logit per row (k = 0 is the max), `[B]`, differentiable in the value. */
function kthLargest(z: tf.Tensor2D, k: number): tf.Tensor1D {
  return tf.sum(tf.mul(z, kthLargestMask(k)(z)), 1) as tf.Tensor1D;
}

/** max_{k≠y} z_k per row. */
function maxOther(z: tf.Tensor2D, y: tf.Tensor1D, K: number): tf.Tensor1D {
  const isY = tf.cast(tf.oneHot(y, K), "bool");
  return tf.max(tf.where(isY, tf.fill(z.shape, -Infinity), z), 1) as tf.Tensor1D;
}

/** Cross-entropy −log softmax(z)_y = logsumexp(z) − z_y (PGD, APGD-CE, FGSM). */
export const crossEntropy: LossFn = (logits, y) =>
  tf.tidy(() => {
    const K = checkLogits("crossEntropy", logits, y, 1);
    return tf.sub(tf.logSumExp(logits, 1), pick(logits, y, K)) as tf.Tensor1D;
  });

/**
 * CW margin max_{k≠y} z_k − z_y (Carlini & Wagner 2017, L-inf variant "CW-inf" used by
 * TRADES/MART evaluations). Positive iff the sample is misclassified; unclamped, as a PGD objective.
 */
export const marginLoss: LossFn = (logits, y) =>
  tf.tidy(() => {
    const K = checkLogits("marginLoss", logits, y, 2);
    return tf.sub(maxOther(logits, y, K), pick(logits, y, K)) as tf.Tensor1D;
  });

/**
 * Difference of Logits Ratio (Croce & Hein 2020, Eq. 3):
 *   DLR = −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12),  π sorting z in decreasing order.
 * Invariant to shifting and rescaling the logits, so it resists logit-scaling gradient masking.
 */
export const dlrLoss: LossFn = (logits, y) =>
  tf.tidy(() => {
    const K = checkLogits("dlrLoss", logits, y, 3);
    const z1 = kthLargest(logits, 0);
    const z3 = kthLargest(logits, 2);
    return tf.neg(tf.div(tf.sub(pick(logits, y, K), maxOther(logits, y, K)), tf.add(tf.sub(z1, z3), 1e-12))) as tf.Tensor1D;
  });

/**
 * Targeted DLR (Croce & Hein 2020, Eq. 4), maximized to push z_t above z_y:
 *   −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12).
 */
export function targetedDlrLoss(target: tf.Tensor1D): LossFn {
  return (logits, y) =>
    tf.tidy(() => {
      const K = checkLogits("targetedDlrLoss", logits, y, 4);
      if (target.rank !== 1 || target.shape[0] !== logits.shape[0]) {
        throw new Error(`targetedDlrLoss: targets must be [${logits.shape[0]}], got [${target.shape}]`);
      }
      const z1 = kthLargest(logits, 0);
      const z3 = kthLargest(logits, 2);
      const z4 = kthLargest(logits, 3);
      const den = tf.add(tf.sub(z1, tf.mul(tf.add(z3, z4), 0.5)), 1e-12);
      return tf.neg(tf.div(tf.sub(pick(logits, y, K), pick(logits, target, K)), den)) as tf.Tensor1D;
    });
}

/**
 * KL(p ‖ q) = Σ_k p_k (log p_k − log q_k) per row, with p = softmax(pLogits), q = softmax(qLogits).
 * TRADES (Zhang et al. 2019, Eq. 5) and MART use KL(p(x) ‖ p(x')): pass clean logits as p.
 */
export function klDivergence(pLogits: tf.Tensor2D, qLogits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    if (pLogits.rank !== 2 || pLogits.shape.join() !== qLogits.shape.join()) {
      throw new Error(`klDivergence: p and q logits must have the same [B, K] shape, got [${pLogits.shape}] and [${qLogits.shape}]`);
    }
    const logP = tf.logSoftmax(pLogits, 1);
    const logQ = tf.logSoftmax(qLogits, 1);
    return tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1) as tf.Tensor1D;
  });
}

export type LossName = "ce" | "margin" | "dlr";

/** The built-in untargeted objectives by name. */
export const LOSSES: Record<LossName, LossFn> = { ce: crossEntropy, margin: marginLoss, dlr: dlrLoss };

export function resolveLoss(loss: LossName | LossFn): LossFn {
  if (typeof loss === "function") return loss;
  const fn = LOSSES[loss];
  if (!fn) throw new Error(`unknown attack loss "${String(loss)}"; known: ${Object.keys(LOSSES).join(", ")}`);
  return fn;
}

/** Per-sample misclassification: argmax z ≠ y, as a bool `[B]`. */
export function misclassified(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.notEqual(tf.argMax(logits, 1), y) as tf.Tensor1D);
}
