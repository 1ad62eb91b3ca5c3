import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "./config";
import { ModuleType, moduleDims, modulePath } from "./params";
import { LoraSet, loraScale } from "./lora";
import { layerNorm } from "./vit";
import { Rng } from "../rng";

/** Sizes of the hypernetwork (docs/method.md, the hypernetwork row). */
export interface HypernetArgs {
  /** Number of defenses K (one learned embedding each). */
  numDefenses: number;
  /** Module types that get a LoRA, e.g. ["qkv", "proj", "fc1", "fc2"]. */
  targets: readonly ModuleType[];
  /** LoRA rank r. */
  rank: number;
  /** LoRA alpha; updates are scaled by alpha / r. */
  alpha: number;
  /** Size of each embedding e_t, e_l, e_m. */
  embedDim: number;
  /** MLP hidden width. */
  hiddenDim: number;
  /** Size of z. */
  latentDim: number;
}

/**
 * The shared hypernetwork of HyperAT (Lv et al. 2026): for defense t, block l and module type m
 *   z = LayerNorm(W2 · ReLU(W1 · [e_t; e_l; e_m] + b1) + b2)
 *   A_tlm = U_A^m z + c_A^m,   B_tlm = U_B^m z + c_B^m
 * Embedding lookups are one-hot matMuls (wasm has no gradient kernel for gather). U_B, c_B start
 * at zero so every generated ΔW starts at 0 and the tuned model starts as the pretrained one.
 * A is produced directly in the engine's `[d_in, r]` layout and B as `[r, d_out]`.
 */
export class Hypernetwork {
  /** Trainable tensors keyed by stable names (checkpoints use these names). */
  readonly vars: Record<string, tf.Variable>;

  constructor(
    readonly vit: ViTConfig,
    readonly args: HypernetArgs,
    seed: number,
  ) {
    const rng = Rng.fromSeed(seed, "hypernet-init");
    const { embedDim: de, hiddenDim: dh, latentDim: dz, numDefenses: K, rank: r } = args;
    const L = vit.depth;
    const M = args.targets.length;
    // tidy frees the initial values; variables survive it.
    const normal = (shape: number[], std: number) =>
      tf.tidy(() => tf.variable(tf.tensor(rng.fillNormal(shape.reduce((a, b) => a * b, 1), std), shape), true));
    const zeros = (shape: number[]) => tf.tidy(() => tf.variable(tf.zeros(shape), true));
    this.vars = {
      "emb.defense": normal([K, de], 1),
      "emb.layer": normal([L, de], 1),
      "emb.module": normal([M, de], 1),
      "mlp.w1": normal([3 * de, dh], Math.sqrt(2 / (3 * de))),
      "mlp.b1": zeros([dh]),
      "mlp.w2": normal([dh, dz], Math.sqrt(1 / dh)),
      "mlp.b2": zeros([dz]),
      "ln.weight": tf.tidy(() => tf.variable(tf.ones([dz]), true)),
      "ln.bias": zeros([dz]),
    };
    for (const m of args.targets) {
      const [din, dout] = moduleDims(vit, m);
      // z is LayerNormed (unit scale), so this gives A entries of std ≈ 1/sqrt(d_in): the
      // Kaiming-style scale LoRA uses for A.
      this.vars[`head.${m}.A.weight`] = normal([dz, din * r], 1 / Math.sqrt(dz * din));
      this.vars[`head.${m}.A.bias`] = zeros([din * r]);
      this.vars[`head.${m}.B.weight`] = zeros([dz, r * dout]);
      this.vars[`head.${m}.B.bias`] = zeros([r * dout]);
    }
  }

  /** z for every (block, module) of defense t: `[M·L, dz]`, rows grouped by module type. */
  private latents(t: number | tf.Tensor): tf.Tensor2D {
    const { numDefenses: K } = this.args;
    const L = this.vit.depth;
    const M = this.args.targets.length;
    const v = this.vars;
    // Selection of e_t: a one-hot row, or a given weight row (lets tests blend defenses).
    const sel = typeof t === "number" ? oneHotRows([t], K) : (t as tf.Tensor2D);
    const et = tf.matMul(sel as tf.Tensor2D, v["emb.defense"] as tf.Tensor2D); // [1, de]
    const rows = M * L;
    const layerIdx: number[] = [];
    const moduleIdx: number[] = [];
    for (let m = 0; m < M; m++) for (let l = 0; l < L; l++) {
      layerIdx.push(l);
      moduleIdx.push(m);
    }
    const el = tf.matMul(oneHotRows(layerIdx, L), v["emb.layer"] as tf.Tensor2D); // [ML, de]
    const em = tf.matMul(oneHotRows(moduleIdx, M), v["emb.module"] as tf.Tensor2D); // [ML, de]
    const input = tf.concat([tf.tile(et, [rows, 1]), el, em], 1) as tf.Tensor2D; // [ML, 3de]
    const h = tf.relu(tf.add(tf.matMul(input, v["mlp.w1"] as tf.Tensor2D), v["mlp.b1"]));
    const pre = tf.add(tf.matMul(h as tf.Tensor2D, v["mlp.w2"] as tf.Tensor2D), v["mlp.b2"]);
    return layerNorm(pre, v["ln.weight"], v["ln.bias"]) as tf.Tensor2D; // [ML, dz]
  }

  /**
   * The LoRA of defense `t` for every targeted module. Differentiable w.r.t. `vars`; call inside
   * the gradient closure (tidy) so the factors are freed with it.
   */
  generate(t: number): LoraSet {
    const { rank: r } = this.args;
    const L = this.vit.depth;
    const z = this.latents(t);
    const factors: LoraSet["factors"] = {};
    this.args.targets.forEach((m, mi) => {
      const [din, dout] = moduleDims(this.vit, m);
      const zm = tf.slice(z, [mi * L, 0], [L, -1]) as tf.Tensor2D; // [L, dz]
      const a = tf.add(tf.matMul(zm, this.vars[`head.${m}.A.weight`] as tf.Tensor2D), this.vars[`head.${m}.A.bias`]);
      const b = tf.add(tf.matMul(zm, this.vars[`head.${m}.B.weight`] as tf.Tensor2D), this.vars[`head.${m}.B.bias`]);
      for (let l = 0; l < L; l++) {
        factors[modulePath(l, m)] = {
          a: tf.reshape(tf.slice(a, [l, 0], [1, -1]), [din, r]) as tf.Tensor2D,
          b: tf.reshape(tf.slice(b, [l, 0], [1, -1]), [r, dout]) as tf.Tensor2D,
        };
      }
    });
    return { scale: loraScale(this.args), factors };
  }

  /** Number of trainable scalars. */
  numParams(): number {
    return Object.values(this.vars).reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
  }
}

/**
 * One-hot rows `[n, depth]` (float32) built in JS: tf.oneHot rejects depth 1, which a config with
 * one defense, one block or one target module would hit.
 */
function oneHotRows(indices: number[], depth: number): tf.Tensor2D {
  const data = new Float32Array(indices.length * depth);
  indices.forEach((k, i) => (data[i * depth + k] = 1));
  return tf.tensor2d(data, [indices.length, depth]);
}
