import * as tf from "@tensorflow/tfjs";
import { sumInOrder } from "../sumTensors";
import { ViTConfig } from "../model/config";
import { ParamMap } from "../model/params";
import { deltaW, LoraSet } from "../model/lora";
import { forward } from "../model/vit";
import { pgdLastIterate } from "../attacks/pgd";
import { crossEntropy } from "../attacks/losses";
import { Rng } from "../rng";
import { foldDeltas } from "./fold";

/** ΔW_t per module path, materialized (engine layout `[d_in, d_out]`). */
export type Deltas = Record<string, tf.Tensor2D>;

/** Materializes every ΔW = (alpha/r)·a·b of one adapter (merging is where BA is formed). */
export function adapterDeltas(lora: LoraSet): Deltas {
  return Object.fromEntries(Object.entries(lora.factors).map(([p, f]) => [p, deltaW(f, lora.scale)]));
}

/** Block index of a module path like "blocks.3.attn.qkv". */
export function blockOf(path: string): number {
  const m = /^blocks\.(\d+)\./.exec(path);
  if (!m) throw new Error(`not a block module path: "${path}"`);
  return Number(m[1]);
}

/**
 * ΔW_lm = Σ_t λ[t][l] · ΔW_tlm for every module. λ given as a `[K, L]` tensor (differentiable)
 * or nested numbers. Uniform merging is λ = 1/K everywhere: the average of the *products*,
 * not of A and B separately (HYPERAT.md, Merging).
 */
export function combineDeltas(perDefense: Deltas[], lambdas: tf.Tensor2D | number[][]): Deltas {
  const paths = Object.keys(perDefense[0] ?? {});
  const out: Deltas = {};
  for (const p of paths) {
    const l = blockOf(p);
    const terms = perDefense.map((d, t) => {
      const coef = Array.isArray(lambdas) ? lambdas[t][l] : tf.slice(lambdas, [t, l], [1, 1]).reshape([]);
      return tf.mul(d[p], coef);
    });
    out[p] = sumInOrder(terms) as tf.Tensor2D;
  }
  return out;
}

export function uniformLambdas(K: number, L: number): number[][] {
  return Array.from({ length: K }, () => new Array<number>(L).fill(1 / K));
}

/** W0 + ΔW for every adapted module, as a plain parameter map (no LoRA at inference). */
export function applyDeltas(params: ParamMap, deltas: Deltas): ParamMap {
  const out: ParamMap = { ...params };
  for (const [p, d] of Object.entries(deltas)) out[`${p}.weight`] = tf.add(params[`${p}.weight`], d);
  return out;
}

export interface AdaptiveMergeArgs {
  vit: ViTConfig;
  /** Backbone + trained head. */
  params: ParamMap;
  perDefense: Deltas[];
  /** Held-out labelled split (x in [0,1] NHWC, y int32). */
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  objective: "adversarial-ce" | "entropy";
  /** "simplex": λ[·][l] = softmax over defenses of free logits, so each block's coefficients
   * stay a convex combination (Σ_t λ_tl = 1) and the merge can reweight the defenses but not
   * shrink ΔW as a whole. "free": λ unconstrained (AdaMerging's task-arithmetic form). */
  lambdas: "simplex" | "free";
  steps: number;
  lr: number;
  batchSize: number;
  attack: { eps: number; stepSize: number; steps: number };
  seed: number;
  onStep?: (step: number, loss: number) => void;
}

/**
 * Adaptive merging (HyperAT journal version; the exact rule is not public, this is our design,
 * HYPERAT.md): coefficients λ[t][l] start at 1/K and are trained with Adam on a held-out split,
 * either on the simplex (a convex combination per block) or unconstrained.
 * adversarial-ce: each step regenerates PGD examples against the *merged* model and minimizes
 * their CE; entropy: minimizes the merged model's prediction entropy on clean inputs, label-free
 * as in AdaMerging (Yang et al., ICLR 2024). Returns λ as nested numbers `[K][L]`.
 */
export async function adaptiveMerge(a: AdaptiveMergeArgs): Promise<number[][]> {
  const K = a.perDefense.length;
  const L = a.vit.depth;
  const simplex = a.lambdas === "simplex";
  // The trained variable: λ itself, or logits whose softmax over defenses is λ (zeros ⇒ 1/K).
  // tidy frees the initial value (a variable keeps its own reference to the data).
  const theta = tf.tidy(() => tf.variable(simplex ? tf.zeros([K, L]) : tf.tensor2d(uniformLambdas(K, L)), true)) as tf.Variable<tf.Rank.R2>;
  const lambdaOf = (): tf.Tensor2D => (simplex ? tf.softmax(theta.transpose()).transpose() : theta);
  const opt = tf.train.adam(a.lr);
  const rng = Rng.fromSeed(a.seed, "adaptive-merge");
  const n = a.x.shape[0];
  const bs = Math.min(a.batchSize, n);
  try {
    for (let s = 0; s < a.steps; s++) {
      const start = (s * bs) % Math.max(1, n - bs + 1);
      const xb = tf.slice(a.x, [start, 0, 0, 0], [bs, -1, -1, -1]);
      const yb = tf.slice(a.y, [start], [bs]);
      const merged = (lam: tf.Tensor2D) => applyDeltas(a.params, combineDeltas(a.perDefense, lam));
      // λ is a constant for the attack: fold module by module (fold.ts), not on a tape. Read
      // asynchronously: webgpu in Node cannot read synchronously.
      let lamNow: number[][] = [];
      if (a.objective === "adversarial-ce") {
        const lam = tf.tidy(lambdaOf);
        lamNow = await lam.array();
        if (simplex) lam.dispose(); // otherwise lam is theta itself
      }
      const xIn =
        a.objective === "adversarial-ce"
          ? tf.tidy(() => {
              const p = foldDeltas(a.params, a.perDefense, lamNow);
              return pgdLastIterate((x) => forward(a.vit, p, x), xb, yb, { ...a.attack, randomStart: true, restarts: 1, loss: "ce", rng });
            })
          : xb;
      const loss = opt.minimize(() => {
        const logits = forward(a.vit, merged(lambdaOf()), xIn);
        if (a.objective === "entropy") {
          const logp = tf.logSoftmax(logits);
          return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1))) as tf.Scalar;
        }
        return tf.mean(crossEntropy(logits, yb)) as tf.Scalar;
      }, true, [theta]);
      const v = loss ? (await loss.data())[0] : NaN;
      tf.dispose([loss ?? undefined, xb, yb]);
      if (xIn !== xb) xIn.dispose();
      a.onStep?.(s + 1, v);
    }
    if (!simplex) return await theta.array();
    const lambda = tf.tidy(lambdaOf);
    const out = await lambda.array();
    lambda.dispose();
    return out;
  } finally {
    theta.dispose();
    opt.dispose();
  }
}
