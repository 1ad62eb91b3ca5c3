// A ComputeHost whose InProcessHost lives in a worker thread (src/daemon/compute/entry.ts,
// bundled to dist/trainWorker.js). Every call is `{ method, args }` over workerRpc.ts: events and
// progress stream back on the same port before the call's result, so their order is kept. The
// calls are typed from ComputeHost (inProcess.ts), itself typed from the contract (contract.ts),
// so a new engine parameter is written in the contract and the engine only.
import { Worker, type MessagePort } from "node:worker_threads";
import type { ComputeHost, ComputeMemory } from "./inProcess";
import { InProcessHost, tfMemory } from "./inProcess";
import { loadEngine, type EngineModule } from "./loader";
import { CancelFlag } from "../cancelFlag";
import { RpcClient, serveRpc, type RpcArgs } from "./workerRpc";
import { workerScript } from "./workerScript";

export interface WorkerData {
  engineModule: EngineModule;
  /** CancelFlag's word: merge/evaluate calls check it (see cancelFlag.ts for why not a message). */
  cancel: SharedArrayBuffer;
}

/** The calls that cross to the worker: all of ComputeHost but its local bookkeeping. */
type RemoteCalls = Omit<ComputeHost, "memory" | "terminate">;
type RemoteMethod = keyof RemoteCalls;

export class WorkerHost implements ComputeHost {
  private worker?: Worker;
  private rpc?: RpcClient<RemoteCalls, ComputeMemory>;
  private lastMemory?: ComputeMemory;
  private readonly cancel = new CancelFlag();

  readonly openSession = this.remote("openSession");
  readonly runStep = this.remote("runStep");
  readonly saveCheckpoint = this.remote("saveCheckpoint");
  readonly saveAdapters = this.remote("saveAdapters");
  readonly merge = this.remote("merge");
  readonly evaluate = this.remote("evaluate");

  constructor(private readonly engineModule: EngineModule) {}

  /** The call `method` forwarded to the worker, with ComputeHost's own signature. */
  private remote<K extends RemoteMethod>(method: K): ComputeHost[K] {
    const forward = (...args: RpcArgs<RemoteCalls, K>) => this.client().call(method, args);
    // RpcArgs/RpcResult of RemoteCalls[K] are Parameters/Awaited ReturnType of ComputeHost[K]
    // (it takes AbortSignals already); TypeScript cannot reduce that for a generic K.
    return forward as unknown as ComputeHost[K];
  }

  private client(): RpcClient<RemoteCalls, ComputeMemory> {
    if (this.worker && this.rpc) return this.rpc;
    const entry = workerScript(__dirname, __filename, "entry.ts", "trainWorker.js");
    const workerData: WorkerData = { engineModule: this.engineModule, cancel: this.cancel.buffer };
    // stdout: true keeps the worker's console output off our stdout (the daemon's JSON-RPC pipe).
    const w = new Worker(entry.script, { eval: entry.eval, workerData, stdout: true });
    w.stdout.pipe(process.stderr);
    const rpc = new RpcClient<RemoteCalls, ComputeMemory>(w, { name: "training worker", cancel: this.cancel, onStatus: (m) => (this.lastMemory = m) });
    // A dead worker is replaced by a fresh one at the next call (the run that crashed fails alone).
    w.on("exit", () => {
      if (this.worker === w) [this.worker, this.rpc] = [undefined, undefined];
    });
    [this.worker, this.rpc] = [w, rpc];
    return rpc;
  }

  closeSession(): Promise<void> {
    return this.worker ? this.client().call("closeSession", []) : Promise.resolve();
  }

  memory(): ComputeMemory | undefined {
    return this.lastMemory;
  }

  async terminate(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    try {
      await this.closeSession();
    } catch {
      /* the worker may already be gone */
    }
    [this.worker, this.rpc] = [undefined, undefined];
    await w.terminate();
  }
}

/** The worker side: serves an InProcessHost over `port` (called by entry.ts). */
export function serveComputeHost(port: MessagePort, data: WorkerData): void {
  serveRpc(port, new InProcessHost(loadEngine(data.engineModule)), { cancel: data.cancel, status: tfMemory });
}
