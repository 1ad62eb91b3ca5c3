// Clean pretraining (src/core/train/pretrain.ts) over `workers` threads: each step the batch is
// split, this thread computes shard 0 while each helper computes one other shard with the
// current weights, and the weighted shard gradients are summed before the same Adam update.
// Result: pretrainClean's up to float reassociation.
import * as tf from "@tensorflow/tfjs";
import type { BackendRequest } from "../../core/backend/names";
import type { ParamMap } from "../../core/model/params";
import { fastPathsEnabled } from "../../core/model/vit";
import { cleanShardGradients } from "../../core/parallel/cleanShard";
import { PretrainArgs, pretrainCleanSharded } from "../../core/train/pretrain";
import { shardSizes } from "./workerCount";
import { closeGradientThreads, spawnGradientThreads } from "./gradientThreads";
import { ownShardAndReplies, rawTensors, shardData, sumShardGradients } from "./shardGradients";
import type { CleanShardResult } from "./cleanShardWorker";

export async function pretrainCleanParallel(a: PretrainArgs, opts: { workers: number; backend: BackendRequest }): Promise<ParamMap> {
  if (!Number.isInteger(opts.workers) || opts.workers < 2) throw new Error(`pretrainCleanParallel: workers must be an integer ≥ 2, got ${opts.workers}`);
  const init = rawTensors(a.init);
  const helpers = spawnGradientThreads(opts.workers - 1, "cleanShard");
  try {
    await Promise.all(helpers.map((h) => h.call("init", [{ vit: a.vit, init, backend: opts.backend, fastPaths: fastPathsEnabled() }])));
    return await pretrainCleanSharded(a, async (vars, x, y) => {
      const B = x.shape[0];
      const sizes = shardSizes(B, opts.workers);
      const values = Object.fromEntries(Object.keys(vars).map((n) => [n, vars[n].dataSync() as Float32Array]));
      const pending: Array<Promise<CleanShardResult>> = [];
      let offset = sizes[0];
      for (let i = 1; i < sizes.length; i++) {
        const { x: xs, y: ys } = shardData(x, y, offset, sizes[i]);
        pending.push(helpers[i - 1].call("shard", [{ vars: values, x: xs, y: ys, n: sizes[i], weight: sizes[i] / B }], [xs.buffer as ArrayBuffer, ys.buffer as ArrayBuffer]));
        offset += sizes[i];
      }
      const { own, replies } = await ownShardAndReplies(pending, () => {
        const [xs, ys] = [tf.slice(x, [0, 0, 0, 0], [sizes[0], -1, -1, -1]), tf.slice(y, [0], [sizes[0]])];
        try {
          return cleanShardGradients(a.vit, vars, xs, ys, sizes[0] / B);
        } finally {
          tf.dispose([xs, ys]);
        }
      });
      return { grads: sumShardGradients(own.grads, replies), loss: replies.reduce((l, r) => l + r.loss, own.loss) };
    });
  } finally {
    await closeGradientThreads(helpers);
  }
}
