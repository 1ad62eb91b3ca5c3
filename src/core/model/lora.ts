import * as tf from "@tensorflow/tfjs";
import { ModuleType, modulePath } from "./params";

/**
 * One LoRA on a linear map W0 (engine layout `[d_in, d_out]`):
 *   y = x W0 + b + (alpha / r) * (x A^T) B^T
 * We hold `a = A^T` as `[d_in, r]` and `b = B^T` as `[r, d_out]` so the forward pass is two
 * plain matMuls (wasm fast path); adapters files store peft's `A [r, d_in]`, `B [d_out, r]`.
 */
export interface LoraFactors {
  a: tf.Tensor2D;
  b: tf.Tensor2D;
}

/** A full adapter: factors per module path (e.g. `blocks.3.attn.qkv`) and the scaling alpha/r. */
export interface LoraSet {
  scale: number;
  factors: Record<string, LoraFactors>;
}

export interface LoraShape {
  rank: number;
  alpha: number;
  targets: readonly ModuleType[];
}

export function loraScale(s: Pick<LoraShape, "rank" | "alpha">): number {
  return s.alpha / s.rank;
}

/** Module paths a LoRA targets, in block order. */
export function targetPaths(depth: number, targets: readonly ModuleType[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < depth; i++) for (const m of targets) out.push(modulePath(i, m));
  return out;
}

/** ΔW = scale · a b in engine layout `[d_in, d_out]` (materialized only for merging and norms;
 * the merge itself is src/core/train/merge.ts). */
export function deltaW(f: LoraFactors, scale: number): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.matMul(f.a, f.b), scale) as tf.Tensor2D);
}

/**
 * The LoraSet `make` returns, as clones the caller owns and frees with `disposeLora`, whether its
 * factors were generated (hyperat: what else `make` made is freed) or are a tunable's variables
 * (lora-at: a clone shares the data, tfjs refcounts it, so the variables stay untouched).
 */
export function ownedLora(make: () => LoraSet): LoraSet {
  let scale = 0;
  const factors = tf.tidy(() => {
    const lora = make();
    scale = lora.scale;
    return Object.fromEntries(Object.entries(lora.factors).map(([p, f]) => [p, { a: tf.clone(f.a), b: tf.clone(f.b) }]));
  }) as Record<string, LoraFactors>;
  return { scale, factors };
}

export function disposeLora(lora: LoraSet): void {
  for (const f of Object.values(lora.factors)) tf.dispose([f.a, f.b]);
}
