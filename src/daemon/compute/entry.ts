// Worker-thread entry (dist/trainWorker.js): trains one run off the daemon's event loop.
import { parentPort, workerData } from "node:worker_threads";
import { serveComputeHost, type WorkerData } from "./workerProxy";

if (!parentPort) throw new Error("trainWorker must run in a worker thread");
serveComputeHost(parentPort, workerData as WorkerData);
