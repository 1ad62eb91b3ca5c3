// A data-parallel gradient thread (dist/parallelWorker.js): its own tfjs + wasm instance and its
// own copy of the model, serving one mode over workerRpc, picked when gradientThreads.ts starts it.
import { parentPort, workerData } from "node:worker_threads";
import { serveRpc } from "../compute/workerRpc";
import { cleanShardWorker } from "./cleanShardWorker";
import type { GradientMode, GradientWorkerData } from "./gradientThreads";
import { trainShardWorker } from "./trainShardWorker";

const MODES: Record<GradientMode, () => object> = {
  trainShard: trainShardWorker,
  cleanShard: cleanShardWorker,
};

const port = parentPort;
if (!port) throw new Error("gradWorker must run inside a worker thread");
const { mode } = workerData as GradientWorkerData;
if (!Object.hasOwn(MODES, mode)) throw new Error(`gradWorker: unknown mode ${JSON.stringify(mode)} (expected one of ${Object.keys(MODES).join(", ")})`);
serveRpc(port, MODES[mode]());
