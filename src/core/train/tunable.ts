import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "../model/config";
import { ParamMap, ModuleType, moduleDims } from "../model/params";
import { LoraSet, loraScale, targetPaths } from "../model/lora";
import { Hypernetwork, HypernetArgs } from "../model/hypernet";
import { Rng } from "../rng";

/**
 * What a method trains, behind one interface so the training loop is the same for all three:
 * - hyperat: a hypernetwork generating defense t's LoRA each step (Lv et al. 2026);
 * - lora-at: plain LoRA variables for one defense (Hu et al. 2022 + adversarial training);
 * - full-at: every backbone weight (full adversarial fine-tuning).
 * All three also train the classification head. Frozen tensors are never variables, so they
 * cannot change.
 */
export interface Tunable {
  readonly method: "hyperat" | "lora-at" | "full-at";
  /** Trainable tensors by stable name (checkpoints and the optimizer key on these). */
  readonly vars: Record<string, tf.Variable>;
  /** Backbone + head as the forward pass should see them (trainable ones are the variables). */
  params(): ParamMap;
  /** The adapter of defense t, or undefined for full-at. Call inside tidy. */
  lora(t: number): LoraSet | undefined;
  dispose(): void;
}

export interface LoraArgs {
  rank: number;
  alpha: number;
  targets: readonly ModuleType[];
}

function headVars(backbone: ParamMap): Record<string, tf.Variable> {
  return {
    "head.weight": tf.variable(tf.clone(backbone["head.weight"]), true),
    "head.bias": tf.variable(tf.clone(backbone["head.bias"]), true),
  };
}

export class HyperatTunable implements Tunable {
  readonly method = "hyperat" as const;
  readonly vars: Record<string, tf.Variable>;
  readonly hypernet: Hypernetwork;
  private readonly head: Record<string, tf.Variable>;

  constructor(
    private readonly backbone: ParamMap,
    vit: ViTConfig,
    args: HypernetArgs,
    seed: number,
  ) {
    this.hypernet = new Hypernetwork(vit, args, seed);
    this.head = tf.tidy(() => headVars(backbone));
    this.vars = { ...prefixed("hypernet.", this.hypernet.vars), ...this.head };
  }

  params(): ParamMap {
    return { ...this.backbone, ...this.head };
  }

  lora(t: number): LoraSet {
    return this.hypernet.generate(t);
  }

  dispose(): void {
    this.hypernet.dispose();
    for (const v of Object.values(this.head)) v.dispose();
  }
}

export class LoraTunable implements Tunable {
  readonly method = "lora-at" as const;
  readonly vars: Record<string, tf.Variable>;
  private readonly head: Record<string, tf.Variable>;
  private readonly paths: string[];

  constructor(
    private readonly backbone: ParamMap,
    vit: ViTConfig,
    private readonly args: LoraArgs,
    seed: number,
  ) {
    const rng = Rng.fromSeed(seed, "lora-init");
    this.head = tf.tidy(() => headVars(backbone));
    this.vars = { ...this.head };
    this.paths = targetPaths(vit.depth, args.targets);
    tf.tidy(() => {
      for (let l = 0; l < vit.depth; l++) {
        for (const m of args.targets) {
          const [din, dout] = moduleDims(vit, m);
          const path = this.paths[l * args.targets.length + args.targets.indexOf(m)];
          // peft's init: A Kaiming-uniform (bound 1/sqrt(d_in)), B zero → ΔW = 0 at start.
          const bound = 1 / Math.sqrt(din);
          this.vars[`lora.${path}.a`] = tf.variable(tf.tensor(rng.fillUniform(din * args.rank, -bound, bound), [din, args.rank]), true);
          this.vars[`lora.${path}.b`] = tf.variable(tf.zeros([args.rank, dout]), true);
        }
      }
    });
  }

  params(): ParamMap {
    return { ...this.backbone, ...this.head };
  }

  lora(): LoraSet {
    const factors: LoraSet["factors"] = {};
    for (const p of this.paths) {
      factors[p] = { a: this.vars[`lora.${p}.a`] as tf.Tensor2D, b: this.vars[`lora.${p}.b`] as tf.Tensor2D };
    }
    return { scale: loraScale(this.args), factors };
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
  }
}

export class FullTunable implements Tunable {
  readonly method = "full-at" as const;
  readonly vars: Record<string, tf.Variable>;

  constructor(backbone: ParamMap) {
    this.vars = tf.tidy(() => Object.fromEntries(Object.entries(backbone).map(([k, t]) => [k, tf.variable(tf.clone(t), true)])));
  }

  params(): ParamMap {
    return { ...this.vars };
  }

  lora(): undefined {
    return undefined;
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
  }
}

function prefixed(prefix: string, vars: Record<string, tf.Variable>): Record<string, tf.Variable> {
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [prefix + k, v]));
}
