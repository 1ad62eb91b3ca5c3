// A worker thread that evaluates whole models (dist/evalWorker.js, its own tfjs/wasm instance):
// wasm in Node is single-threaded, so a run's models are evaluated side by side, one per core.
// It serves evalWorkerApi.ts over workerRpc; evalPool.ts starts and calls it.
import { parentPort, workerData } from "node:worker_threads";
import { serveRpc } from "../compute/workerRpc";
import { evalWorkerApi, type EvalWorkerData } from "./evalWorkerApi";

const port = parentPort;
if (!port) throw new Error("evalWorker must run inside a worker thread");
serveRpc(port, evalWorkerApi(), { cancel: (workerData as EvalWorkerData).cancel });
