import * as tf from "@tensorflow/tfjs";
import { misclassified } from "./losses";
import { readScalar } from "../tensorRead";

/** Per-sample attack success as bool `[B]`. */
export type SuccessFn = (logits: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor1D;

/**
 * Per-sample "most adversarial point seen so far". Order: a misclassified point beats a correctly
 * classified one; between two of the same kind the higher attack loss wins. Seeding it with the
 * clean point is what guarantees an attack never returns something less adversarial than x
 * (an already-misclassified clean point stays unless a candidate is misclassified with higher loss).
 * Tensors live in the caller's scope; `update` disposes what it replaces.
 */
export class BestPoint {
  private constructor(
    public x: tf.Tensor4D,
    public fooled: tf.Tensor1D,
    public loss: tf.Tensor1D,
    private readonly success: SuccessFn,
  ) {}

  /**
   * Starts from `x` with its logits and loss (clones x, so the caller keeps ownership of it).
   * `success` defines "fooled": misclassification by default, hitting a target for targeted runs.
   */
  static start(x: tf.Tensor4D, logits: tf.Tensor2D, y: tf.Tensor1D, loss: tf.Tensor1D, success: SuccessFn = misclassified): BestPoint {
    return new BestPoint(tf.clone(x), success(logits, y), tf.clone(loss), success);
  }

  update(x: tf.Tensor4D, logits: tf.Tensor2D, y: tf.Tensor1D, loss: tf.Tensor1D): void {
    const fooled = this.success(logits, y);
    this.combine(x, fooled, loss);
    fooled.dispose();
  }

  /** Merges another candidate set (e.g. another restart) by the same order. */
  merge(other: BestPoint): void {
    this.combine(other.x, other.fooled, other.loss);
  }

  private combine(x: tf.Tensor4D, fooled: tf.Tensor1D, loss: tf.Tensor1D): void {
    const [nx, nf, nl] = tf.tidy(() => {
      const better: tf.Tensor1D = tf.logicalOr(
        tf.logicalAnd(fooled, tf.logicalNot(this.fooled)),
        tf.logicalAnd(tf.equal(fooled, this.fooled), tf.greater(loss, this.loss)),
      );
      return [selectSamples(better, x, this.x), tf.logicalOr(fooled, this.fooled), tf.where(better, loss, this.loss)];
    });
    this.dispose();
    this.x = nx as tf.Tensor4D;
    this.fooled = nf as tf.Tensor1D;
    this.loss = nl as tf.Tensor1D;
  }

  /** Async: webgpu reads only asynchronously in Node (../tensorRead.ts). */
  async allFooled(): Promise<boolean> {
    return (await readScalar(tf.all(this.fooled))) === 1;
  }

  /** Per-sample "fooled" flags. */
  async fooledFlags(): Promise<boolean[]> {
    return Array.from(await this.fooled.data(), (v) => v === 1);
  }

  /** Hands x to the caller and frees the rest. */
  take(): tf.Tensor4D {
    this.fooled.dispose();
    this.loss.dispose();
    return this.x;
  }

  dispose(): void {
    this.x.dispose();
    this.fooled.dispose();
    this.loss.dispose();
  }
}

/** Per-sample select: rows of `a` where cond[b] is true, else rows of `b` (any rank). */
export function selectSamples<T extends tf.Tensor>(cond: tf.Tensor1D, a: T, b: T): T {
  return tf.tidy(() => {
    const c = tf.reshape(cond, [cond.shape[0], ...a.shape.slice(1).map(() => 1)]);
    return tf.where(tf.broadcastTo(c, a.shape), a, b) as T;
  });
}

/** Clean logits and per-sample loss at x (no gradient), for seeding a BestPoint. */
export function evalLoss(
  model: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  loss: (l: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor1D,
): { logits: tf.Tensor2D; loss: tf.Tensor1D } {
  const logits = tf.tidy(() => model(x));
  return { logits, loss: loss(logits, y) };
}
