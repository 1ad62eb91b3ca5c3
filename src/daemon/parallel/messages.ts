import type { BackendRequest } from "../../core/backend/names";
import type { RunConfig } from "../../core/config/types";
import type { ViTConfig } from "../../core/model/config";
import type { RngState } from "../../core/rng";

/** A tensor as plain data (structured-clone friendly). */
export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

/** Main thread → gradient worker. */
export type ToWorker =
  | {
      /** Build the run's Trainer (same config, same frozen backbone) for trainShard requests. */
      kind: "initTrainer";
      cfg: RunConfig;
      vit: ViTConfig;
      backbone: Record<string, RawTensor>;
      backend: BackendRequest;
      fastPaths: boolean;
    }
  | {
      /** Defense t's craft + loss on a shard (src/core/parallel/trainShard.ts). */
      kind: "trainShard";
      vars: Record<string, Float32Array>;
      x: Float32Array;
      y: Int32Array;
      n: number;
      t: number;
      /** The attack stream positioned at this shard's first draw. */
      attackRng: RngState;
      /** n / B: the shard's share of the batch-mean loss. */
      weight: number;
    }
  | {
      /** Hold variables for clean pretraining (values arrive with every cleanShard request). */
      kind: "initPretrain";
      vit: ViTConfig;
      init: Record<string, RawTensor>;
      backend: BackendRequest;
      fastPaths: boolean;
    }
  | {
      /** Clean CE gradients on a shard (src/core/parallel/cleanShard.ts). */
      kind: "cleanShard";
      vars: Record<string, Float32Array>;
      x: Float32Array;
      y: Int32Array;
      n: number;
      weight: number;
    }
  | { kind: "close" };

/** Gradient worker → main thread. */
export type FromWorker =
  | { kind: "ready"; backend: string }
  | { kind: "shard"; grads: Record<string, Float32Array>; loss: number; advCorrect: number; cleanCorrect?: number }
  | { kind: "cleanShard"; grads: Record<string, Float32Array>; loss: number }
  | { kind: "error"; message: string };
