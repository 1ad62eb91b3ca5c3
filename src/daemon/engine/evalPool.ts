import * as tf from "@tensorflow/tfjs";
import { Worker } from "node:worker_threads";
import type { BackendRequest } from "../../core/backend/names";
import type { Dataset } from "../../core/data/types";
import { evaluate, EvalProgress, EvalResult, EvaluationCancelledError } from "../../core/evaluate/evaluator";
import { CancelFlag, type CancelSignal } from "../cancelFlag";
import { fastPathsEnabled, forward } from "../../core/model/vit";
import { workerScript } from "../compute/workerScript";
import type { EvalJob, FromEvalWorker, ToEvalWorker } from "./evalJob";
import { shareBlasThreads } from "../../core/backend/wasm/blasMatMul";

export interface PoolOptions {
  /** Threads to use; 1 evaluates in this thread. */
  workers: number;
  backend: BackendRequest;
  onProgress: (job: number, p: EvalProgress) => void;
  /** Checked between batches (in each worker, through a shared flag) and between models. */
  signal?: CancelSignal;
}

/** How often the pool copies its signal into the workers' shared flag. */
const CANCEL_POLL_MS = 50;

/** Jobs are built when dispatched, so at most `workers` models' parameters are copied at once. */
export type JobFactory = () => Promise<EvalJob>;

async function runHere(job: EvalJob, data: Dataset, onProgress: (p: EvalProgress) => void, signal?: CancelSignal): Promise<EvalResult> {
  const params = Object.fromEntries(Object.entries(job.params).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
  try {
    return await evaluate((x) => forward(job.vit, params, x), data, { attacks: job.attacks, eps: job.eps, seed: job.seed, batchSize: job.batchSize, n: job.n, examples: job.examples, onProgress, signal });
  } finally {
    tf.dispose(Object.values(params));
  }
}

/**
 * Evaluates several models, one per worker thread (each its own wasm instance: wasm in Node
 * has no threads, so this is how a run's evaluation uses every core). Results come back in job
 * order; each is exactly what an in-thread evaluation gives (same seed, same attacks).
 */
export async function evaluateJobs(factories: JobFactory[], data: Dataset, opts: PoolOptions): Promise<EvalResult[]> {
  const results: EvalResult[] = new Array(factories.length);
  const threads = Math.min(opts.workers, factories.length);
  if (threads <= 1) {
    for (const [i, make] of factories.entries()) {
      if (opts.signal?.aborted) throw new EvaluationCancelledError("the next model");
      results[i] = await runHere(await make(), data, (p) => opts.onProgress(i, p), opts.signal);
    }
    return results;
  }
  const entry = workerScript(__dirname, __filename, "evalWorker.ts", "evalWorker.js");
  const shared = { images: data.images, labels: data.labels, n: data.n, height: data.height, width: data.width };
  let next = 0;
  const workers: Worker[] = [];
  // Workers read this word between batches (evalWorker.ts); the pool raises it when its own
  // signal (which may itself be a flag from another thread) is aborted.
  const stop = new CancelFlag();
  const poll = opts.signal ? setInterval(() => opts.signal!.aborted && stop.raise(1), CANCEL_POLL_MS) : undefined;
  try {
    await Promise.all(
      Array.from({ length: threads }, async () => {
        const w = new Worker(entry.script, { eval: entry.eval, stdout: true });
        w.stdout.pipe(process.stderr);
        workers.push(w);
        const ask = (m: ToEvalWorker) => w.postMessage(m);
        const reply = () =>
          new Promise<FromEvalWorker>((resolve, reject) => {
            const onMsg = (m: FromEvalWorker) => {
              if (m.kind === "progress") return opts.onProgress(m.id, m);
              w.off("message", onMsg);
              w.off("error", reject);
              resolve(m);
            };
            w.on("message", onMsg);
            w.once("error", reject);
          });
        ask({ kind: "init", backend: opts.backend, fastPaths: fastPathsEnabled(), data: shared, cancel: stop.buffer });
        const ready = await reply();
        if (ready.kind === "error") throw new Error(`evaluation worker: ${ready.message}`);
        while (next < factories.length) {
          if (opts.signal?.aborted) throw new EvaluationCancelledError("the next model");
          const i = next++;
          const job = await factories[i]();
          ask({ kind: "run", id: i, job });
          const m = await reply();
          if (m.kind === "error") throw m.cancelled ? new EvaluationCancelledError(m.message) : new Error(`evaluation worker: ${m.message}`);
          if (m.kind !== "result") throw new Error(`evaluation worker: unexpected reply "${m.kind}"`);
          results[i] = m.result;
        }
      }),
    );
  } finally {
    clearInterval(poll);
    await Promise.all(workers.map((w) => w.terminate()));
    shareBlasThreads(1); // the workers had the process's BLAS at one thread each
  }
  return results;
}

/** Plain-data copy of engine-layout parameters for a job. */
export async function paramsToJob(params: Record<string, tf.Tensor>): Promise<EvalJob["params"]> {
  const out: EvalJob["params"] = {};
  for (const [k, t] of Object.entries(params)) out[k] = { shape: t.shape, data: (await t.data()) as Float32Array };
  return out;
}
