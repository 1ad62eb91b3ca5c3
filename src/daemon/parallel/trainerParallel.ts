// The run's real training step (Trainer: sampled defense, its craft + loss, AdamW) over
// `training.workers` threads. The main thread samples the defense, positions the attack stream
// per shard (so every sample gets the random start it would get in a single-thread run), and
// computes shard 0 while each helper — the same Trainer rebuilt from the same config and frozen
// backbone, its tunable variables synced every step — computes one other shard. The weighted
// shard gradients are summed and the AdamW update is applied here exactly as in trainStep.
// Result: the single-worker run up to float reassociation.
import * as tf from "@tensorflow/tfjs";
import type { BackendRequest } from "../../core/backend/names";
import type { RunConfig } from "../../core/config/types";
import type { ViTConfig } from "../../core/model/config";
import type { ParamMap } from "../../core/model/params";
import { fastPathsEnabled } from "../../core/model/vit";
import { Rng } from "../../core/rng";
import { shardAttackStates } from "../../core/parallel/trainShard";
import { shardGradients } from "../../core/train/accumulate";
import type { ShardedGradients, StepResult, Trainer } from "../../core/train/trainer";
import { shardSizes } from "./workerCount";
import { closeGradientThreads, spawnGradientThreads, type GradientThread } from "./gradientThreads";
import { ownShardAndReplies, rawTensors, shardData, sumShardGradients } from "./shardGradients";
import type { TrainShardRequest, TrainShardResult } from "./trainShardWorker";

export interface TrainerWorkersOptions {
  /** Total threads including this one (≥ 2; 1 means: call trainer.trainStep instead). */
  workers: number;
  /** Backend the helpers select (the one active here). */
  backend: BackendRequest;
  /** The memory plan's micro-batch: each shard larger than this runs as accumulated micro-batches. */
  microBatch?: number;
}

export class TrainerWorkers {
  private closing?: Promise<void>;

  private constructor(
    private readonly trainer: Trainer,
    private readonly helpers: Array<GradientThread<"trainShard">>,
    private readonly microBatch: number,
  ) {}

  /** Starts `workers − 1` helpers, each building `cfg`'s Trainer on a copy of `backbone`. */
  static async create(cfg: RunConfig, vit: ViTConfig, backbone: ParamMap, trainer: Trainer, opts: TrainerWorkersOptions): Promise<TrainerWorkers> {
    if (!Number.isInteger(opts.workers) || opts.workers < 2) throw new Error(`TrainerWorkers: workers must be an integer ≥ 2, got ${opts.workers}`);
    const raw = rawTensors(backbone);
    const helpers = spawnGradientThreads(opts.workers - 1, "trainShard");
    const tw = new TrainerWorkers(trainer, helpers, opts.microBatch ?? cfg.training.batchSize);
    try {
      const init = { cfg, vit, backbone: raw, backend: opts.backend, fastPaths: fastPathsEnabled() };
      await Promise.all(helpers.map((h) => h.call("init", [init])));
    } catch (e) {
      await tw.close();
      throw e;
    }
    return tw;
  }

  get workers(): number {
    return this.helpers.length + 1;
  }

  /** One training step, as `trainer.trainStep(x, y)` computes it, sharded over the workers. */
  step(x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> {
    if (this.closing) return Promise.reject(new Error("TrainerWorkers: step after close (the helper threads are terminated)"));
    return this.trainer.trainStepSharded(x, y, (t, rng) => this.gradients(t, x, y, rng));
  }

  private async gradients(t: number, x: tf.Tensor4D, y: tf.Tensor1D, rng: Rng): Promise<ShardedGradients> {
    const B = x.shape[0];
    const sizes = shardSizes(B, this.workers);
    const states = shardAttackStates(this.trainer, t, x, y, sizes, rng);
    const tunable = this.trainer.args.tunable.vars;
    const vars = Object.fromEntries(Object.keys(tunable).map((n) => [n, tunable[n].dataSync() as Float32Array]));
    const pending: Array<Promise<TrainShardResult>> = [];
    let offset = sizes[0];
    for (let i = 1; i < sizes.length; i++) {
      const n = sizes[i];
      const { x: xs, y: ys } = shardData(x, y, offset, n);
      offset += n;
      const msg: TrainShardRequest = { vars, x: xs, y: ys, n, t, attackRng: states[i], weight: n / B, batch: B, micro: this.microBatch };
      pending.push(this.helpers[i - 1].call("shard", [msg], [xs.buffer as ArrayBuffer, ys.buffer as ArrayBuffer]));
    }
    // Our own shard runs while the helpers work on theirs.
    const n0 = sizes[0];
    const { own, replies } = await ownShardAndReplies(pending, async () => {
      const [xs, ys] = [tf.slice(x, [0, 0, 0, 0], [n0, -1, -1, -1]), tf.slice(y, [0], [n0])];
      try {
        return await shardGradients(this.trainer, t, xs, ys, Rng.fromState(states[0]), n0 / B, B, this.microBatch);
      } finally {
        tf.dispose([xs, ys]);
      }
    });
    const grads = sumShardGradients(own.grads, replies);
    let { loss, advCorrect, cleanCorrect } = own;
    for (const r of replies) {
      loss += r.loss;
      advCorrect += r.advCorrect;
      if (cleanCorrect !== undefined) cleanCorrect += r.cleanCorrect ?? NaN;
    }
    return { grads, loss, advCorrect, cleanCorrect };
  }

  /** Terminates the helper threads (idempotent: resolves once every thread has exited). */
  close(): Promise<void> {
    this.closing ??= closeGradientThreads(this.helpers);
    return this.closing;
  }
}
