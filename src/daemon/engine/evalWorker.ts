// A worker thread that evaluates whole models (its own tfjs/wasm instance): wasm in Node is
// single-threaded, so a run's models are evaluated side by side, one per core.
import * as tf from "@tensorflow/tfjs";
import { parentPort } from "node:worker_threads";
import { selectBackend } from "../../core/backend/select";
import { setFastPaths, forward } from "../../core/model/vit";
import { evaluate, EvalData, EvaluationCancelledError } from "../../core/evaluate/evaluator";
import { CancelFlag, type CancelSignal } from "../cancelFlag";
import type { FromEvalWorker, ToEvalWorker } from "./evalJob";

const port = parentPort;
if (!port) throw new Error("evalWorker must run inside a worker thread");
let data: EvalData | undefined;
let signal: CancelSignal | undefined;

async function handle(m: ToEvalWorker): Promise<void> {
  if (m.kind === "init") {
    // Before selection: it installs the wasm fast kernels only while they are on (fastPathSwitch.ts).
    setFastPaths(m.fastPaths);
    await selectBackend(m.backend);
    data = m.data;
    signal = new CancelFlag(m.cancel).signalFor(1);
    port!.postMessage({ kind: "ready" } satisfies FromEvalWorker);
    return;
  }
  if (!data) throw new Error("evalWorker: run before init");
  const { job, id } = m;
  const params = Object.fromEntries(Object.entries(job.params).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
  try {
    const result = await evaluate((x) => forward(job.vit, params, x), data, {
      attacks: job.attacks,
      eps: job.eps,
      seed: job.seed,
      batchSize: job.batchSize,
      n: job.n,
      examples: job.examples,
      signal,
      onProgress: (p) => port!.postMessage({ kind: "progress", id, ...p } satisfies FromEvalWorker),
    });
    port!.postMessage({ kind: "result", id, result } satisfies FromEvalWorker);
  } finally {
    tf.dispose(Object.values(params));
  }
}

port.on("message", (m: ToEvalWorker) => {
  handle(m).catch((e: unknown) =>
    port!.postMessage({
      kind: "error",
      id: m.kind === "run" ? m.id : undefined,
      message: e instanceof Error ? e.message : String(e),
      cancelled: e instanceof EvaluationCancelledError,
    } satisfies FromEvalWorker),
  );
});
