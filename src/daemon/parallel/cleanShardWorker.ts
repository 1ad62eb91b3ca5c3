// A gradient thread's "cleanShard" mode (clean pretraining, src/core/train/pretrain.ts): it holds
// copies of the variables; each request sets them to the main thread's values and answers the
// clean cross-entropy gradients of one shard (src/core/parallel/cleanShard.ts).
import * as tf from "@tensorflow/tfjs";
import type { BackendRequest } from "../../core/backend/names";
import { selectBackend } from "../../core/backend/select";
import type { ViTConfig } from "../../core/model/config";
import { setFastPaths } from "../../core/backend/fastPathSwitch";
import { cleanShardGradients } from "../../core/parallel/cleanShard";
import { transferring, type Transferring } from "../compute/workerRpc";
import { assignValues, packGradients, type RawShardGradients, type RawTensor } from "./shardGradients";

export interface CleanShardInit {
  vit: ViTConfig;
  /** The variables' shapes and first values (later values arrive with every request). */
  init: Record<string, RawTensor>;
  backend: BackendRequest;
  fastPaths: boolean;
}

export interface CleanShardRequest {
  vars: Record<string, Float32Array>;
  x: Float32Array;
  y: Int32Array;
  n: number;
  weight: number;
}

export interface CleanShardResult extends RawShardGradients {
  loss: number;
}

export function cleanShardWorker() {
  let held: { vit: ViTConfig; vars: Record<string, tf.Variable> } | undefined;
  return {
    async init(m: CleanShardInit): Promise<{ backend: string }> {
      setFastPaths(m.fastPaths); // before selection, which installs the wasm kernels only while on
      const info = await selectBackend(m.backend);
      const vars = Object.fromEntries(Object.entries(m.init).map(([k, t]) => [k, tf.variable(tf.tensor(t.data, t.shape), true)]));
      held = { vit: m.vit, vars };
      return { backend: info.backend };
    },

    async shard(m: CleanShardRequest): Promise<Transferring<CleanShardResult>> {
      if (!held) throw new Error("gradient worker: cleanShard before init");
      const { vit, vars } = held;
      assignValues(vars, m.vars);
      const x = tf.tensor4d(m.x, [m.n, vit.imgSize, vit.imgSize, 3]);
      const y = tf.tensor1d(m.y, "int32");
      let res;
      try {
        res = cleanShardGradients(vit, vars, x, y, m.weight);
      } finally {
        tf.dispose([x, y]);
      }
      const grads = packGradients(res.grads);
      return transferring({ grads, loss: res.loss }, Object.values(grads).map((g) => g.buffer as ArrayBuffer));
    },
  };
}

export type CleanShardWorker = ReturnType<typeof cleanShardWorker>;
