import * as tf from "@tensorflow/tfjs";
import { NonFiniteLossError } from "./nonFiniteLossError";
import { readAndDispose, readScalar } from "../tensorRead";
import { ViTConfig } from "../model/config";
import { forward, Classifier } from "../model/vit";
import type { ParamMap } from "../model/params";
import { deltaW } from "../model/lora";
import { Rng, RngState } from "../rng";
import { AdamW, learningRate } from "./adamw";
import { foldAdapter } from "./fold";
import { accumulateGradients } from "./accumulate";
import { shardStep } from "../parallel/trainShard";
import { Defense } from "./defenses/types";
import { Tunable } from "./tunable";

export interface TrainerArgs {
  vit: ViTConfig;
  tunable: Tunable;
  defenses: Defense[];
  /** Relative sampling weights, one per defense (HyperAT samples one defense per step). */
  weights: number[];
  attack: { eps: number; stepSize: number; steps: number };
  optimizer: { lr: number; weightDecay: number; beta1: number; beta2: number; warmupSteps: number; minLrRatio: number; gradClip: number };
  totalSteps: number;
  seed: number;
  /** Activation checkpointing in the attack and loss passes (the memory plan decides, docs/memory.md). */
  checkpoint?: boolean;
}

export interface StepResult {
  step: number;
  defense: string;
  defenseIndex: number;
  loss: number;
  cleanAcc: number;
  advAcc: number;
  lr: number;
  gradNorm: number;
}

/** Counter-based state that, with the tensors, makes a resumed run continue exactly. */
export interface TrainerState {
  step: number;
  optimizerT: number;
  taskRng: RngState;
  attackRng: RngState;
  sampledCounts: number[];
}

/** One step's gradients computed shard by shard (src/core/parallel/trainShard.ts), summed. */
export interface ShardedGradients {
  /** Gradients of the batch-mean loss, keyed like `tunable.vars`; the trainer disposes them. */
  grads: Record<string, tf.Tensor>;
  /** Batch-mean loss. */
  loss: number;
  /** Correctly classified adversarial (and clean, when the loss computes them) samples. */
  advCorrect: number;
  cleanCorrect?: number;
}

/**
 * Random sampling and tuning (Lv et al. 2026, Sec. 3): each step samples one defense t, crafts
 * its adversarial batch against the current model_t, and updates the trainable tensors on that
 * defense's loss. Only the tunable's variables get gradients; the backbone stays frozen.
 */
export class Trainer {
  step = 0;
  readonly sampledCounts: number[];
  private readonly optimizer: AdamW;
  private taskRng: Rng;
  private attackRng: Rng;

  constructor(readonly args: TrainerArgs) {
    if (args.weights.length !== args.defenses.length) {
      throw new Error(`trainer: ${args.weights.length} sampling weights for ${args.defenses.length} defenses`);
    }
    this.optimizer = new AdamW(args.tunable.vars, args.optimizer);
    this.taskRng = Rng.fromSeed(args.seed, "task-sampling");
    this.attackRng = Rng.fromSeed(args.seed, "train-attack");
    this.sampledCounts = args.defenses.map(() => 0);
  }

  /** The model of defense t as a classifier (backbone + head + its LoRA). Call inside tidy. */
  model(t: number): Classifier {
    const { vit, tunable } = this.args;
    const params = tunable.params();
    const lora = tunable.lora(t);
    return (x) => forward(vit, params, x, { lora, checkpoint: this.args.checkpoint });
  }

  /**
   * The same model for the inner attack, with its (constant) LoRA folded into the weights: one
   * matMul per linear map instead of three, so each attack pass costs what a plain ViT's does.
   * Equal to `model(t)` up to float reassociation. Call inside tidy.
   */
  attackModel(t: number): Classifier {
    const params = this.foldedParams(t);
    return (x) => forward(this.args.vit, params, x, { checkpoint: this.args.checkpoint });
  }

  /**
   * Parameters of defense t's model with its LoRA folded into the weights (W0 + ΔW_t): what the
   * attack, validation and evaluation run. New tensors only for the adapted weights; the rest
   * are the backbone's/head's own. Call inside tidy, or dispose the entries not in `params()`.
   */
  foldedParams(t: number): ParamMap {
    const { tunable } = this.args;
    const lora = tunable.lora(t);
    return lora ? foldAdapter(tunable.params(), lora) : tunable.params();
  }

  /** Samples the defense for the next step (uniform or configured weights). */
  private sampleDefense(): number {
    return this.args.defenses.length === 1 ? 0 : this.taskRng.categorical(this.args.weights);
  }

  /**
   * One optimizer step on a batch (x in [0,1] `[B,H,W,3]`, y int32 `[B]`): the shard step
   * (src/core/parallel/trainShard.ts) with the whole batch as its one local shard. Micro-batched
   * (trainStepAccumulated), data-parallel (src/daemon/parallel/trainerParallel.ts) and
   * `hyperat bench` (src/bench/runBench.ts) steps run the same ops, so there is one training step.
   */
  trainStep(x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> {
    return this.trainStepSharded(x, y, (t, rng) => shardStep(this, t, x, y, { ...this.args.attack, rng }, 1));
  }

  /**
   * The step around its gradients: defense sampling, the attack stream, the NaN check, the AdamW
   * update (clipping on the summed gradient) and the metrics stay here; `gradients` (one local
   * shard, micro-batches, or data-parallel workers) gets the sampled defense and the attack
   * stream, which it must advance as a full-batch craft would.
   */
  async trainStepSharded(x: tf.Tensor4D, y: tf.Tensor1D, gradients: (t: number, attackRng: Rng) => Promise<ShardedGradients>): Promise<StepResult> {
    const { defenses, optimizer: o, totalSteps } = this.args;
    const t = this.sampleDefense();
    const defense = defenses[t];
    const lr = learningRate(this.step, totalSteps, o.lr, o.warmupSteps, o.minLrRatio);
    const g = await gradients(t, this.attackRng);
    if (!Number.isFinite(g.loss)) {
      tf.dispose(Object.values(g.grads));
      throw new NonFiniteLossError(this.step, defense.name);
    }
    const gradNorm = await this.optimizer.apply(g.grads, lr);
    tf.dispose(Object.values(g.grads));
    const B = x.shape[0];
    let cleanAcc: number;
    if (g.cleanCorrect !== undefined) cleanAcc = g.cleanCorrect / B;
    else {
      // Clean accuracy needs clean logits; defenses whose loss does not compute them get one
      // extra forward pass here (no gradient), after the update as the metrics of this step.
      const logitsClean = tf.tidy(() => this.model(t)(x));
      cleanAcc = await accuracy(logitsClean, y);
      logitsClean.dispose();
    }
    this.sampledCounts[t] += 1;
    this.step += 1;
    return { step: this.step, defense: defense.name, defenseIndex: t, loss: g.loss, cleanAcc, advAcc: g.advCorrect / B, lr, gradNorm };
  }

  /**
   * trainStep with the batch run as micro-batches of at most `microBatch` images whose
   * gradients are summed before the one update (src/core/train/accumulate.ts): the same step up
   * to float reassociation, with one micro-batch's activations alive at a time.
   */
  async trainStepAccumulated(x: tf.Tensor4D, y: tf.Tensor1D, microBatch: number): Promise<StepResult> {
    if (microBatch >= x.shape[0]) return this.trainStep(x, y);
    return this.trainStepSharded(x, y, (t, rng) => accumulateGradients(this, t, x, y, rng, microBatch));
  }

  /** ‖ΔW_tlm‖_F for every defense and adapted module, in `modulePaths()` order. */
  async loraNorms(): Promise<{ layers: string[]; norms: Record<string, number[]> }> {
    const norms: Record<string, number[]> = {};
    let layers: string[] = [];
    for (const [t, d] of this.args.defenses.entries()) {
      const stacked = tf.tidy(() => {
        const lora = this.args.tunable.lora(t);
        if (!lora) return undefined;
        layers = Object.keys(lora.factors);
        return tf.stack(layers.map((p) => tf.norm(deltaW(lora.factors[p], lora.scale))));
      });
      norms[d.name] = stacked ? Array.from(await readAndDispose(stacked)) : [];
    }
    return { layers, norms };
  }

  state(): { json: TrainerState; tensors: Record<string, tf.Tensor> } {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(this.args.tunable.vars)) tensors[`param.${k}`] = v;
    for (const [k, v] of Object.entries(this.optimizer.stateTensors())) tensors[`optim.${k}`] = v;
    return {
      json: {
        step: this.step,
        optimizerT: this.optimizer.t,
        taskRng: this.taskRng.state(),
        attackRng: this.attackRng.state(),
        sampledCounts: [...this.sampledCounts],
      },
      tensors,
    };
  }

  /** Restores a state written by `state()`; every tensor name and shape is checked. */
  restore(json: TrainerState, tensors: Record<string, tf.Tensor>): void {
    for (const [k, v] of Object.entries(this.args.tunable.vars)) {
      const src = tensors[`param.${k}`];
      if (!src) throw new Error(`checkpoint: missing tensor "param.${k}"`);
      if (src.shape.join(",") !== v.shape.join(",")) {
        throw new Error(`checkpoint: tensor "param.${k}" has shape [${src.shape}], expected [${v.shape}]`);
      }
      v.assign(src);
    }
    const optim: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(tensors)) if (k.startsWith("optim.")) optim[k.slice(6)] = v;
    this.optimizer.restore(optim, json.optimizerT);
    this.step = json.step;
    this.taskRng = Rng.fromState(json.taskRng);
    this.attackRng = Rng.fromState(json.attackRng);
    json.sampledCounts.forEach((c, i) => (this.sampledCounts[i] = c));
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

export async function accuracy(logits: tf.Tensor2D, y: tf.Tensor1D): Promise<number> {
  return readScalar(tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32"))));
}

