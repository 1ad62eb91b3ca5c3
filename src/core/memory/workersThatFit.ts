/**
 * How many worker threads fit in RAM. The one-model-per-core evaluation pool
 * (src/daemon/engine/evalPool.ts) and the data-parallel trainer
 * (src/daemon/parallel/trainerParallel.ts) give each thread its own wasm instance holding a
 * model copy and its batch, so W workers need about W × `perWorkerBytes` of RAM besides the
 * daemon's own thread, whose tensors are already allocated (and so already out of the free
 * RAM). They keep the same quarter of free RAM in reserve as the memory plan
 * (src/core/memory/limits.ts: 75 % of free RAM).
 */

export interface WorkerCount {
  workers: number;
  /** Why fewer workers than asked, when that is so. */
  note?: string;
}

export const WORKERS_RAM_FRACTION = 0.75;

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/**
 * At most `wanted`, at least 1 (one worker is the daemon's own thread, which needs no new RAM).
 * `job` says what each worker holds, for the note ("evaluating", "a model and its attack batch").
 */
export function workersThatFit(wanted: number, perWorkerBytes: number, freeBytes: number, job: { doing: string; holds: string }): WorkerCount {
  if (wanted <= 1) return { workers: Math.max(1, wanted) };
  const room = WORKERS_RAM_FRACTION * freeBytes;
  const fit = Math.max(1, Math.floor(room / perWorkerBytes));
  if (fit >= wanted) return { workers: wanted };
  return {
    workers: fit,
    note: `${job.doing} on ${fit} worker${fit === 1 ? "" : "s"} instead of ${wanted}: each holds ${job.holds} (about ${gib(perWorkerBytes)}) and ${wanted} would need ${gib(wanted * perWorkerBytes)}, over ${gib(room)} (75 % of free RAM)`,
  };
}
