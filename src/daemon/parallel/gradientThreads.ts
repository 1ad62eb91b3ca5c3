// Helper threads for data parallelism: one worker_threads Worker each (own tfjs + wasm
// instance) running gradWorker.ts in one mode, called over workerRpc (src/daemon/compute/workerRpc.ts).
import { Worker } from "node:worker_threads";
import { RpcClient } from "../compute/workerRpc";
import { workerScript } from "../compute/workerScript";
import { shareBlasThreads } from "../../core/backend/wasm/blasMatMul";
import type { TrainShardWorker } from "./trainShardWorker";
import type { CleanShardWorker } from "./cleanShardWorker";

/** What a gradient thread computes, by mode: the run's training step or clean pretraining. */
export interface GradientWorkers {
  trainShard: TrainShardWorker;
  cleanShard: CleanShardWorker;
}
export type GradientMode = keyof GradientWorkers;

/** gradWorker.ts reads it to pick its mode. */
export interface GradientWorkerData {
  mode: GradientMode;
}

export type GradientThread<M extends GradientMode> = RpcClient<GradientWorkers[M]>;

/** Starts `n` helper threads serving `mode` (not yet initialized: call their `init`). */
export function spawnGradientThreads<M extends GradientMode>(n: number, mode: M): GradientThread<M>[] {
  const entry = workerScript(__dirname, __filename, "gradWorker.ts", "parallelWorker.js");
  const workerData: GradientWorkerData = { mode };
  return Array.from({ length: n }, () => {
    // stdout: true keeps worker chatter (tfjs' banner) off our stdout, which may carry JSON.
    const w = new Worker(entry.script, { eval: entry.eval, workerData, stdout: true });
    w.stdout.pipe(process.stderr);
    return new RpcClient<GradientWorkers[M]>(w, { name: "gradient worker" });
  });
}

/** Terminates the threads; later calls reject instead of waiting for a reply forever. */
export async function closeGradientThreads(threads: Array<GradientThread<GradientMode>>): Promise<void> {
  await Promise.all(threads.map((t) => t.close()));
  shareBlasThreads(1); // workers set the process's BLAS to one thread each; the main thread is alone again
}
