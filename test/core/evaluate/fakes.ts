// A classifier and attacks whose behaviour is fully scripted, for testing the evaluator's
// bookkeeping. Image i carries its index in channel 0 (i/1000) and 0.49 in channel 1; the model
// predicts class 1 iff mean(channel 1) > 0.5, so adding eps = 8/255 to channel 1 flips it.
import * as tf from "@tensorflow/tfjs";
import type { AttackRunner } from "../../../src/core/attacks/registry";
import type { EvalData } from "../../../src/core/evaluate/evaluator";

export const HW = 2;

export function scriptedData(n: number, wrongLabels: number[] = []): EvalData {
  const images = new Float32Array(n * HW * HW * 3);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < HW * HW; p++) {
      images[(i * HW * HW + p) * 3] = i / 1000;
      images[(i * HW * HW + p) * 3 + 1] = 0.49;
    }
  }
  const labels = Int32Array.from({ length: n }, (_, i) => (wrongLabels.includes(i) ? 1 : 0));
  return { images, labels, n, height: HW, width: HW };
}

export const scriptedModel = (x: tf.Tensor4D): tf.Tensor2D =>
  tf.tidy(() => {
    const m = tf.mean(tf.slice(x, [0, 0, 0, 1], [-1, -1, -1, 1]), [1, 2, 3]);
    const s = tf.mul(tf.sub(m, 0.5), 1000);
    return tf.stack([tf.neg(s), s], 1) as tf.Tensor2D;
  });

/** Sample ids of a batch, read back from channel 0. */
export function ids(x: tf.Tensor4D): number[] {
  return tf.tidy(() => Array.from(tf.slice(x, [0, 0, 0, 0], [-1, 1, 1, 1]).dataSync(), (v) => Math.round(v * 1000)));
}

/** An attack that breaks exactly the samples in `breaks` and records whom it was run on. */
export function scriptedAttack(name: string, breaks: number[], usesGradients = true, shift?: number): AttackRunner & { seen: number[]; batches: number[] } {
  const seen: number[] = [];
  const batches: number[] = [];
  return {
    name,
    description: `scripted ${name}`,
    usesGradients,
    settings: {},
    seen,
    batches,
    run: async (_m, x, _y, ctx) => {
      const who = ids(x);
      seen.push(...who);
      batches.push(who.length);
      const mask = tf.tensor4d(
        who.flatMap((i) => Array.from({ length: HW * HW }, () => [0, breaks.includes(i) ? 1 : 0, 0]).flat()),
        x.shape,
      );
      const out = tf.tidy(() => tf.add(x, tf.mul(mask, shift ?? ctx.eps)) as tf.Tensor4D);
      mask.dispose();
      return out;
    },
  };
}
