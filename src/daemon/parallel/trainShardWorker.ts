// A gradient thread's "trainShard" mode: the run's Trainer rebuilt from the same config and
// frozen backbone; each request runs defense t's craft + loss on one shard of the batch
// (shardStep, src/core/parallel/trainShard.ts) and answers the shard's weighted gradients.
import * as tf from "@tensorflow/tfjs";
import type { BackendRequest } from "../../core/backend/names";
import { selectBackend } from "../../core/backend/select";
import type { RunConfig } from "../../core/config/types";
import type { ViTConfig } from "../../core/model/config";
import { setFastPaths } from "../../core/backend/fastPathSwitch";
import { shardGradients } from "../../core/train/accumulate";
import { Rng, type RngState } from "../../core/rng";
import { buildTrainer } from "../../core/train/build";
import type { Trainer } from "../../core/train/trainer";
import { transferring, type Transferring } from "../compute/workerRpc";
import { assignValues, packGradients, type RawShardGradients, type RawTensor } from "./shardGradients";

export interface TrainShardInit {
  cfg: RunConfig;
  vit: ViTConfig;
  backbone: Record<string, RawTensor>;
  backend: BackendRequest;
  fastPaths: boolean;
}

/** Defense t's craft + loss on a shard, with the main thread's current tunable values. */
export interface TrainShardRequest {
  vars: Record<string, Float32Array>;
  x: Float32Array;
  y: Int32Array;
  n: number;
  t: number;
  /** The attack stream positioned at this shard's first draw. */
  attackRng: RngState;
  /** n / B: the shard's share of the batch-mean loss. */
  weight: number;
  /** B, the whole batch (the shard runs as micro-batches of at most `micro`, each weighing n_i / B). */
  batch: number;
  micro: number;
}

export interface TrainShardResult extends RawShardGradients {
  loss: number;
  advCorrect: number;
  cleanCorrect?: number;
}

export function trainShardWorker() {
  let trainer: Trainer | undefined;
  return {
    async init(m: TrainShardInit): Promise<{ backend: string }> {
      setFastPaths(m.fastPaths); // before selection, which installs the wasm kernels only while on
      const info = await selectBackend(m.backend);
      // The backbone stays alive with the trainer (its frozen tensors are used every step).
      const backbone = Object.fromEntries(Object.entries(m.backbone).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
      trainer = buildTrainer(m.cfg, m.vit, backbone);
      return { backend: info.backend };
    },

    async shard(m: TrainShardRequest): Promise<Transferring<TrainShardResult>> {
      if (!trainer) throw new Error("gradient worker: trainShard before init");
      assignValues(trainer.args.tunable.vars, m.vars);
      const size = trainer.args.vit.imgSize;
      const x = tf.tensor4d(m.x, [m.n, size, size, 3]);
      const y = tf.tensor1d(m.y, "int32");
      let res;
      try {
        res = await shardGradients(trainer, m.t, x, y, Rng.fromState(m.attackRng), m.weight, m.batch, m.micro);
      } finally {
        tf.dispose([x, y]);
      }
      const grads = packGradients(res.grads);
      const { loss, advCorrect, cleanCorrect } = res;
      return transferring({ grads, loss, advCorrect, cleanCorrect }, Object.values(grads).map((g) => g.buffer as ArrayBuffer));
    },
  };
}

export type TrainShardWorker = ReturnType<typeof trainShardWorker>;
