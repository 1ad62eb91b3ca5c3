import * as tf from "@tensorflow/tfjs";
import { readScalar } from "../tensorRead";
import { sumInOrder } from "../sumTensors";

export interface AdamWArgs {
  beta1: number;
  beta2: number;
  /** Decoupled weight decay (Loshchilov & Hutter 2019), applied to matrices only. */
  weightDecay: number;
  eps?: number;
  /** Global gradient-norm clip; 0 disables. */
  gradClip: number;
}

/**
 * AdamW over named variables, with state we can checkpoint exactly (tf.train.adam hides its
 * slots' naming). Weight decay skips vectors (biases, LayerNorm, embeddings' rows are matrices
 * but decaying them is harmless) as is common practice.
 */
export class AdamW {
  private m: Record<string, tf.Variable> = {};
  private v: Record<string, tf.Variable> = {};
  /** Number of updates applied so far. */
  t = 0;

  constructor(
    private readonly vars: Record<string, tf.Variable>,
    private readonly args: AdamWArgs,
  ) {
    for (const [name, x] of Object.entries(vars)) {
      this.m[name] = tf.tidy(() => tf.variable(tf.zerosLike(x), false));
      this.v[name] = tf.tidy(() => tf.variable(tf.zerosLike(x), false));
    }
  }

  /**
   * Applies one update with learning rate `lr`. `grads` is keyed like `vars`; a missing
   * gradient (a variable the loss did not touch this step) leaves it and its moments unchanged.
   * Returns the global gradient norm before clipping.
   */
  async apply(grads: Record<string, tf.Tensor>, lr: number): Promise<number> {
    const { beta1, beta2, weightDecay, gradClip } = this.args;
    const eps = this.args.eps ?? 1e-8;
    const norm = await globalNorm(Object.values(grads));
    const clip = gradClip > 0 && norm > gradClip ? gradClip / norm : 1;
    this.t += 1;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, g0] of Object.entries(grads)) {
        const x = this.vars[name];
        if (!x) throw new Error(`AdamW: gradient for unknown variable "${name}"`);
        const g = clip === 1 ? g0 : tf.mul(g0, clip);
        const m = tf.add(tf.mul(this.m[name], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[name], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[name].assign(m);
        this.v[name].assign(v);
        const update = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(v, bc2)), eps));
        let next = tf.sub(x, tf.mul(update, lr));
        if (weightDecay > 0 && x.rank >= 2) next = tf.sub(next, tf.mul(x, lr * weightDecay));
        x.assign(next);
      }
    });
    return norm;
  }

  /** Moments keyed `m.<name>` / `v.<name>` for checkpoints. */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const name of Object.keys(this.m)) {
      out[`m.${name}`] = this.m[name];
      out[`v.${name}`] = this.v[name];
    }
    return out;
  }

  /** Restores moments and the update count saved by `stateTensors` (values are copied). */
  restore(tensors: Record<string, tf.Tensor>, t: number): void {
    for (const name of Object.keys(this.m)) {
      for (const [slot, store] of [["m", this.m], ["v", this.v]] as const) {
        const src = tensors[`${slot}.${name}`];
        if (!src) throw new Error(`checkpoint: missing optimizer tensor "${slot}.${name}"`);
        if (src.shape.join(",") !== store[name].shape.join(",")) {
          throw new Error(`checkpoint: optimizer tensor "${slot}.${name}" has shape [${src.shape}], expected [${store[name].shape}]`);
        }
        store[name].assign(src);
      }
    }
    this.t = t;
  }

  dispose(): void {
    for (const x of [...Object.values(this.m), ...Object.values(this.v)]) x.dispose();
  }
}

/** Async: the clip factor needs the norm on the host, and webgpu reads only asynchronously. */
export async function globalNorm(ts: tf.Tensor[]): Promise<number> {
  if (ts.length === 0) return 0;
  return readScalar(tf.tidy(() => tf.sqrt(sumInOrder(ts.map((t) => tf.sum(tf.square(t)))))));
}

/** Linear warm-up to `peak`, then cosine decay to `peak * minRatio` at `total` (step is 0-based). */
export function learningRate(step: number, total: number, peak: number, warmup: number, minRatio: number): number {
  // min(1, ·): a fractional warm-up (pretrain uses steps/10) must not overshoot the peak.
  if (warmup > 0 && step < warmup) return peak * Math.min(1, (step + 1) / warmup);
  const span = Math.max(1, total - warmup);
  const progress = Math.min(1, (step - warmup) / span);
  return peak * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
