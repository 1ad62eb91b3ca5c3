import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "../model/config";
import { ParamMap } from "../model/params";
import { forward } from "../model/vit";
import { pgdLastIterate } from "../attacks/pgd";
import { crossEntropy } from "../attacks/losses";
import { Rng } from "../rng";
import { readScalar } from "../tensorRead";
import { microBatchSizes } from "./accumulate";
import { LoraSet } from "../model/lora";
import { checkAdapters, DefenseAdapters, DefenseLambdas, foldAdapters, uniformLambdas } from "./merge";

export interface AdaptiveMergeArgs {
  vit: ViTConfig;
  /** Backbone + trained head. */
  params: ParamMap;
  /** Each defense's LoRA factors, keyed by defense name; λ comes back under the same names. */
  adapters: DefenseAdapters;
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
  /** Images per attack and λ-gradient pass (the memory plan's merge micro-batch,
   * src/core/memory/plan.ts); default the whole batch. */
  microBatchSize?: number;
  attack: { eps: number; stepSize: number; steps: number };
  seed: number;
  onStep?: (step: number, loss: number) => void;
}

/**
 * Adaptive merging (HyperAT journal version; the exact rule is not public, this is our design,
 * docs/method.md): coefficients λ[t][l] start at 1/K and are trained with Adam on a held-out
 * split, either on the simplex (a convex combination per block) or unconstrained.
 * adversarial-ce: each step regenerates PGD examples against the *merged* model and minimizes
 * their CE; entropy: minimizes the merged model's prediction entropy on clean inputs, label-free
 * as in AdaMerging (Yang et al., ICLR 2024).
 *
 * Each step's batch runs as micro-batches: the λ tape holds W0 + Σ λ·ΔW formed from the LoRA
 * factors by one custom-gradient op per module (one copy of the adapted weights, `foldAdapters`
 * in src/core/train/merge.ts), the
 * backward's gradient of that copy, and one micro-batch's activations; dλ is accumulated. Both objectives
 * are batch means of per-sample terms, so Σ_i dλ(mean_i) · n_i / B = dλ(mean_B), and each
 * micro-batch's PGD start draws from the same stream in sample order, as the whole batch would:
 * the result equals one full-batch pass up to float reassociation (test/core/train/adaptiveMerge.test.ts).
 */
export async function adaptiveMerge(a: AdaptiveMergeArgs): Promise<DefenseLambdas> {
  await checkAdapters(a.params, a.adapters);
  const names = Object.keys(a.adapters);
  const perDefense = names.map((n) => a.adapters[n]);
  const K = names.length;
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
  const sizes = microBatchSizes(bs, a.microBatchSize ?? bs);
  const readLambdas = async (): Promise<number[][]> => {
    const lam = tf.tidy(lambdaOf);
    try {
      return await lam.array();
    } finally {
      if (lam !== theta) lam.dispose();
    }
  };
  try {
    for (let s = 0; s < a.steps; s++) {
      const start = (s * bs) % Math.max(1, n - bs + 1);
      const xb = tf.slice(a.x, [start, 0, 0, 0], [bs, -1, -1, -1]);
      const yb = tf.slice(a.y, [start], [bs]);
      try {
        const xIn = a.objective === "adversarial-ce" ? attackBatch(a, perDefense, await readLambdas(), xb, yb, sizes, rng) : xb;
        try {
          const loss = await stepLambdas(a, theta, lambdaOf, perDefense, xIn, yb, sizes, opt);
          a.onStep?.(s + 1, loss);
        } finally {
          if (xIn !== xb) xIn.dispose();
        }
      } finally {
        tf.dispose([xb, yb]);
      }
    }
    return Object.fromEntries((await readLambdas()).map((row, t) => [names[t], row]));
  } finally {
    theta.dispose();
    opt.dispose();
  }
}

/** Slices `[offset, offset + n)` of x and y for each size, in order. */
function* microBatches(x: tf.Tensor4D, y: tf.Tensor1D, sizes: number[]): Generator<{ xs: tf.Tensor4D; ys: tf.Tensor1D; n: number }> {
  let offset = 0;
  for (const n of sizes) {
    const xs = tf.slice(x, [offset, 0, 0, 0], [n, -1, -1, -1]);
    const ys = tf.slice(y, [offset], [n]);
    offset += n;
    try {
      yield { xs, ys, n };
    } finally {
      tf.dispose([xs, ys]);
    }
  }
}

/**
 * PGD examples against the merged model at the current λ, micro-batch by micro-batch. λ is a
 * constant for the attack, so the merged weights are folded once from the factors, off the tape.
 */
function attackBatch(a: AdaptiveMergeArgs, perDefense: LoraSet[], lamNow: number[][], xb: tf.Tensor4D, yb: tf.Tensor1D, sizes: number[], rng: Rng): tf.Tensor4D {
  return tf.tidy(() => {
    const p = foldAdapters(a.params, perDefense, lamNow);
    const parts: tf.Tensor4D[] = [];
    for (const { xs, ys } of microBatches(xb, yb, sizes)) {
      parts.push(pgdLastIterate((x) => forward(a.vit, p, x), xs, ys, { ...a.attack, randomStart: true, restarts: 1, loss: "ce", rng }));
    }
    return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
  });
}

/** One Adam step on θ with dλ accumulated over the micro-batches; returns the batch loss. */
async function stepLambdas(
  a: AdaptiveMergeArgs,
  theta: tf.Variable<tf.Rank.R2>,
  lambdaOf: () => tf.Tensor2D,
  perDefense: LoraSet[],
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  sizes: number[],
  opt: tf.Optimizer,
): Promise<number> {
  const B = x.shape[0];
  let grad: tf.Tensor | undefined;
  let loss: tf.Tensor | undefined;
  try {
    for (const { xs, ys, n } of microBatches(x, y, sizes)) {
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(a.vit, foldAdapters(a.params, perDefense, lambdaOf()), xs);
        return tf.mul(objectiveLoss(a.objective, logits, ys), n / B) as tf.Scalar;
      }, [theta]);
      const g = grads[theta.name];
      const [nextGrad, nextLoss] = grad && loss ? [tf.add(grad, g), tf.add(loss, value)] : [g, value];
      if (grad && loss) tf.dispose([grad, loss, g, value]);
      grad = nextGrad;
      loss = nextLoss;
      // Yield between micro-batches so a long merge step stays cancellable.
      await Promise.resolve();
    }
    opt.applyGradients({ [theta.name]: grad! });
    const total = loss!;
    loss = undefined;
    return await readScalar(total);
  } finally {
    tf.dispose([grad, loss].filter((t): t is tf.Tensor => t !== undefined));
  }
}

/** The batch mean the merge minimizes: CE of the (adversarial) inputs, or the prediction entropy. */
function objectiveLoss(objective: AdaptiveMergeArgs["objective"], logits: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    if (objective === "entropy") {
      const logp = tf.logSoftmax(logits);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(logp), logp), 1))) as tf.Scalar;
    }
    return tf.mean(crossEntropy(logits, y)) as tf.Scalar;
  });
}
