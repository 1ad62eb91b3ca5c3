import * as tf from "@tensorflow/tfjs";
import { Worker } from "node:worker_threads";
import type { BackendRequest } from "../../core/backend/names";
import type { Dataset } from "../../core/data/types";
import { EvalProgress, EvalResult, EvaluationCancelledError } from "../../core/evaluate/evaluator";
import { CancelFlag, type CancelSignal } from "../cancelFlag";
import { fastPathsEnabled } from "../../core/model/vit";
import { RpcClient } from "../compute/workerRpc";
import { workerScript } from "../compute/workerScript";
import type { EvalJob } from "./evalJob";
import { evaluateJob, type EvalWorkerApi, type EvalWorkerData } from "./evalWorkerApi";
import { shareBlasThreads } from "../../core/backend/wasm/blasMatMul";

export interface PoolOptions {
  /** Threads to use; 1 evaluates in this thread. */
  workers: number;
  backend: BackendRequest;
  onProgress: (job: number, p: EvalProgress) => void;
  /** Checked between batches (in each worker, through a shared flag) and between models. */
  signal?: CancelSignal;
}

/** How often the pool copies its signal into the workers' shared flags. */
const CANCEL_POLL_MS = 50;

/** Names the threads in every error a user sees: "evaluation worker: ...". */
const NAME = "evaluation worker";

/** Jobs are built when dispatched, so at most `workers` models' parameters are copied at once. */
export type JobFactory = () => Promise<EvalJob>;

/** A call's failure as users see it: a cancel stays EvaluationCancelledError (workerRpc revives
 * it as its class, src/daemon/errors.ts), anything else says it came from an evaluation worker. */
function fromWorker(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (err instanceof EvaluationCancelledError) return err;
  return err.message.startsWith(NAME) ? err : new Error(`${NAME}: ${err.message}`, { cause: err });
}

/** Starts one evaluation thread; its calls go over workerRpc (src/daemon/compute/workerRpc.ts). */
function spawnEvalThread(): RpcClient<EvalWorkerApi> {
  const entry = workerScript(__dirname, __filename, "evalWorker.ts", "evalWorker.js");
  const cancel = new CancelFlag();
  const workerData: EvalWorkerData = { cancel: cancel.buffer };
  // stdout: true keeps worker chatter (tfjs' banner) off our stdout, which may carry JSON.
  const w = new Worker(entry.script, { eval: entry.eval, workerData, stdout: true });
  w.stdout.pipe(process.stderr);
  return new RpcClient<EvalWorkerApi>(w, { name: NAME, cancel });
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
      results[i] = await evaluateJob(await make(), data, (p) => opts.onProgress(i, p), opts.signal);
    }
    return results;
  }
  const shared = { images: data.images, labels: data.labels, n: data.n, height: data.height, width: data.width };
  let next = 0;
  const clients: Array<RpcClient<EvalWorkerApi>> = [];
  // The pool's signal may itself be a flag from another thread (no event to listen to), so it is
  // polled into an AbortSignal, which each call hands its worker as that worker's flag word.
  const stop = new AbortController();
  const poll = opts.signal ? setInterval(() => opts.signal!.aborted && stop.abort(), CANCEL_POLL_MS) : undefined;
  try {
    const threadRuns = Array.from({ length: threads }, async () => {
      const rpc = spawnEvalThread();
      clients.push(rpc);
      await rpc.call("init", [{ backend: opts.backend, fastPaths: fastPathsEnabled(), data: shared }]).catch((e: unknown) => Promise.reject(fromWorker(e)));
      while (next < factories.length) {
        if (opts.signal?.aborted || stop.signal.aborted) throw new EvaluationCancelledError("the next model");
        const i = next++;
        const job = await factories[i]();
        results[i] = await rpc.call("run", [job, (p: EvalProgress) => opts.onProgress(i, p), stop.signal]).catch((e: unknown) => Promise.reject(fromWorker(e)));
      }
    });
    // No thread is terminated before it has settled: ending a worker while it still loads a
    // native module (koffi, for the BLAS) aborts the whole daemon with a napi FATAL ERROR (seen
    // by the e2e cancel step). A failure stops the others at their next batch instead.
    const settled = await Promise.allSettled(threadRuns.map((r) => r.catch((e: unknown) => (stop.abort(), Promise.reject(e)))));
    const failure = firstFailure(settled);
    if (failure) throw failure;
  } finally {
    clearInterval(poll);
    await Promise.all(clients.map((c) => c.close()));
    shareBlasThreads(1); // the workers had the process's BLAS at one thread each
  }
  return results;
}

/** The error a pool reports: a real failure before the cancels it caused, and a cancel that
 * names the attack it stopped in before one that stopped between models. */
function firstFailure(settled: Array<PromiseSettledResult<void>>): unknown {
  const errors = settled.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  const cancelled = (e: unknown) => e instanceof EvaluationCancelledError;
  return errors.find((e) => !cancelled(e)) ?? errors.find((e) => cancelled(e) && (e as EvaluationCancelledError).attack !== "the next model") ?? errors[0];
}

/** Plain-data copy of engine-layout parameters for a job. */
export async function paramsToJob(params: Record<string, tf.Tensor>): Promise<EvalJob["params"]> {
  const out: EvalJob["params"] = {};
  for (const [k, t] of Object.entries(params)) out[k] = { shape: t.shape, data: (await t.data()) as Float32Array };
  return out;
}
