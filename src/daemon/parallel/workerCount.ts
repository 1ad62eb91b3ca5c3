// How many threads a data-parallel job uses, and how a batch splits over them. Used by the
// training session, evaluation, backbone pretraining and `hyperat bench` alike.
import * as os from "node:os";
import type { BackendName } from "../../core/backend/names";

/** `"auto"` = one worker per core. */
export type WorkersOption = "auto" | number;

/** Backends whose device context is per process (webgpu: Dawn; tensorflow-gpu: CUDA). */
export function ownsOneGpuContext(backend: BackendName): boolean {
  return backend === "webgpu" || backend === "tensorflow-gpu";
}

export function resolveWorkers(w: WorkersOption, backend?: BackendName): number {
  // One GPU context per process: helpers would each open their own device context (or fight
  // the GPU from the CPU), so GPU backends run every job in this thread.
  if (backend !== undefined && ownsOneGpuContext(backend)) return 1;
  if (w === "auto") return Math.max(1, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
  if (!Number.isInteger(w) || w < 1) throw new Error(`workers must be "auto" or an integer ≥ 1, got ${JSON.stringify(w)}`);
  return w;
}

/** Shard sizes for `batch` samples over `workers`, as even as possible (first shards larger). */
export function shardSizes(batch: number, workers: number): number[] {
  const n = Math.min(batch, workers);
  return Array.from({ length: n }, (_, i) => Math.floor(batch / n) + (i < batch % n ? 1 : 0));
}
