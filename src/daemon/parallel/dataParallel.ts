// Data parallelism over worker_threads: wasm in Node runs one thread per instance
// (WASM_HAS_MULTITHREAD_SUPPORT is off, ../shared/recipes/compute-backends.md), so we use the
// other cores with one wasm instance per worker. Each step the batch is split into shards; the
// main thread computes shard 0 while helpers compute the rest; the summed-loss gradients are
// added and divided by the batch size — the single-worker mean-loss gradient up to float
// reassociation. The attack is sharded the same way (PGD examples are per-sample).
import * as tf from "@tensorflow/tfjs";
import type { BackendRequest } from "../../core/backend/names";
import { resolveWorkers, shardSizes, WorkersOption } from "./workerCount";
import { activeBackend } from "../../core/backend/select";
import { shardGradientsTensors, StepSpec, TrainModel } from "../../core/parallel/shardStep";
import { readScalar } from "../../core/tensorRead";
import { fastPathsEnabled } from "../../core/model/vit";
import type { FromWorker, ToWorker } from "./messages";
import { Helper, ownShardAndReplies, spawnHelpers, sumShardGradients, tidyResult } from "./helpers";

export interface DataParallelOptions {
  workers: WorkersOption;
  /** Backend each helper selects; the main thread's backend is whatever is active already. */
  backend: BackendRequest;
}

export interface StepGradients {
  /** Gradients of the batch-mean loss, keyed like `model.tunable.vars`. Caller disposes. */
  grads: Record<string, tf.Tensor>;
  /** Mean loss over the batch (after the attack, if any). */
  loss: number;
}

export class DataParallel {
  private constructor(
    private readonly model: TrainModel,
    private readonly helpers: Helper[],
  ) {}

  /**
   * Starts `workers − 1` helper threads, each building the same model from `model.setup` and
   * using the main thread's fast-path setting.
   */
  static async create(model: TrainModel, opts: DataParallelOptions): Promise<DataParallel> {
    const n = resolveWorkers(opts.workers, opts.backend === "auto" ? activeBackend()?.backend : opts.backend);
    const helpers = spawnHelpers(n - 1);
    const dp = new DataParallel(model, helpers);
    try {
      await Promise.all(helpers.map((h) => h.call({ kind: "init", setup: model.setup, backend: opts.backend, fastPaths: fastPathsEnabled() })));
    } catch (e) {
      await dp.close();
      throw e;
    }
    return dp;
  }

  get workers(): number {
    return this.helpers.length + 1;
  }

  /** Attack (spec.pgdSteps > 0) and mean-loss gradients for one batch, sharded over the workers. */
  async gradients(x: tf.Tensor4D, y: tf.Tensor1D, start: tf.Tensor4D, spec: StepSpec): Promise<StepGradients> {
    const B = x.shape[0];
    const sizes = shardSizes(B, this.workers);
    const varNames = Object.keys(this.model.tunable.vars);
    const vars = sizes.length > 1 ? Object.fromEntries(varNames.map((n) => [n, this.model.tunable.vars[n].dataSync() as Float32Array])) : {};
    const pending: Array<Promise<FromWorker>> = [];
    let offset = sizes[0];
    for (let i = 1; i < sizes.length; i++) {
      const n = sizes[i];
      // Own copies: on the cpu backend dataSync can return a view of a shared buffer, which must
      // not be transferred (detached) away from the tensor that owns it.
      const [xs, ys, ss] = tf.tidy(() => [
        new Float32Array(tf.slice(x, [offset, 0, 0, 0], [n, -1, -1, -1]).dataSync()),
        new Int32Array(tf.slice(y, [offset], [n]).dataSync()),
        new Float32Array(tf.slice(start, [offset, 0, 0, 0], [n, -1, -1, -1]).dataSync()),
      ]);
      offset += n;
      const msg: ToWorker = { kind: "step", vars, x: xs, y: ys, start: ss, n, spec };
      pending.push(this.helpers[i - 1].call(msg, [xs.buffer as ArrayBuffer, ys.buffer as ArrayBuffer, ss.buffer as ArrayBuffer]));
    }
    // Our own shard runs while the helpers work on theirs.
    const n0 = sizes[0];
    const { own, replies } = await ownShardAndReplies(pending, async () => {
      const r = tidyResult(() => {
        const xs = sizes.length > 1 ? tf.slice(x, [0, 0, 0, 0], [n0, -1, -1, -1]) : x;
        const ys = sizes.length > 1 ? tf.slice(y, [0], [n0]) : y;
        const ss = sizes.length > 1 ? tf.slice(start, [0, 0, 0, 0], [n0, -1, -1, -1]) : start;
        return shardGradientsTensors(this.model, xs, ys, ss, spec);
      });
      return { grads: r.grads, lossSum: await readScalar(r.lossSumT) };
    });
    const summed = sumShardGradients(own.grads, replies, "grads", B);
    const grads = summed.grads;
    const lossSum = summed.replies.reduce((l, r) => l + r.lossSum, own.lossSum);
    return { grads, loss: lossSum / B };
  }

  async close(): Promise<void> {
    await Promise.all(this.helpers.map((h) => h.close()));
  }
}
