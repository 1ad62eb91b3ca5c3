// What an evaluation thread serves over workerRpc (src/daemon/compute/workerRpc.ts): `init` once
// (backend, the test data, the fast-path switch), then `run` per model. The pool's in-thread
// path (evalPool.ts, one worker) calls evaluateJob directly, so both paths evaluate alike.
import * as tf from "@tensorflow/tfjs";
import type { BackendRequest } from "../../core/backend/names";
import { selectBackend } from "../../core/backend/select";
import { evaluate, type EvalData, type EvalProgress, type EvalResult } from "../../core/evaluate/evaluator";
import { forward, setFastPaths } from "../../core/model/vit";
import type { CancelSignal } from "../cancelFlag";
import type { EvalJob } from "./evalJob";

/** One model's evaluation from its plain-data job; the job's tensors live only for the call. */
export async function evaluateJob(job: EvalJob, data: EvalData, onProgress: (p: EvalProgress) => void, signal?: CancelSignal): Promise<EvalResult> {
  const params = Object.fromEntries(Object.entries(job.params).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
  try {
    return await evaluate((x) => forward(job.vit, params, x), data, { attacks: job.attacks, eps: job.eps, seed: job.seed, batchSize: job.batchSize, n: job.n, examples: job.examples, onProgress, signal });
  } finally {
    tf.dispose(Object.values(params));
  }
}

export interface EvalWorkerInit {
  backend: BackendRequest;
  fastPaths: boolean;
  data: EvalData;
}

export function evalWorkerApi() {
  let data: EvalData | undefined;
  return {
    async init(m: EvalWorkerInit): Promise<void> {
      // Before selection: it installs the wasm fast kernels only while they are on (fastPathSwitch.ts).
      setFastPaths(m.fastPaths);
      await selectBackend(m.backend);
      data = m.data;
    },

    /** `signal` is the pool's cancel, read between batches through the shared flag (cancelFlag.ts). */
    async run(job: EvalJob, onProgress: (p: EvalProgress) => void, signal: CancelSignal): Promise<EvalResult> {
      if (!data) throw new Error("run before init");
      return evaluateJob(job, data, onProgress, signal);
    },
  };
}

export type EvalWorkerApi = ReturnType<typeof evalWorkerApi>;

/** The evaluation thread's workerData (evalWorker.ts): the client's CancelFlag word. */
export interface EvalWorkerData {
  cancel: SharedArrayBuffer;
}
