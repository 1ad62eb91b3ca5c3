// A ComputeHost whose InProcessHost lives in a worker thread (src/daemon/compute/entry.ts,
// bundled to dist/trainWorker.js). Calls are messages; events and progress stream back on the
// same port before the call's result, so their order is kept.
import { Worker, type MessagePort } from "node:worker_threads";
import * as path from "node:path";
import { createRequire } from "node:module";
import type { EngineProgress, MergeOutcome, ResolvedRunConfig, TrainEvent } from "./contract";
import type { CheckpointRef, MergeStrategy } from "../../protocol/runs";
import type { ComputeHost, ComputeMemory, SessionInfo } from "./inProcess";
import { InProcessHost } from "./inProcess";
import { reviveError, serializeError, type SerializedError } from "../errors";
import { loadEngine, type EngineModule } from "./loader";
import { CancelFlag, type CancelSignal } from "../cancelFlag";

type HostMethod = "openSession" | "runStep" | "saveCheckpoint" | "saveAdapters" | "closeSession" | "merge" | "evaluate";

interface HostCall {
  id: number;
  method: HostMethod;
  args: unknown[];
}

type HostReply = { id: number } & (
  | { kind: "event"; event: TrainEvent }
  | { kind: "progress"; progress: EngineProgress }
  | { kind: "result"; value: unknown; memory: ComputeMemory }
  | { kind: "error"; error: SerializedError; memory: ComputeMemory }
);

export interface WorkerData {
  engineModule: EngineModule;
  /** CancelFlag's word: merge/evaluate calls check it (see cancelFlag.ts for why not a message). */
  cancel: SharedArrayBuffer;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  onEvent?: (e: TrainEvent) => void;
  onProgress?: (p: EngineProgress) => void;
}

/** How to start the worker: the bundle next to dist/cli.js, or the .ts source through tsx. */
function workerEntry(): { script: string; eval: boolean } {
  if (__filename.endsWith(".ts")) {
    const tsx = createRequire(__filename).resolve("tsx/cjs/api");
    const src = path.join(__dirname, "entry.ts");
    return { script: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(src)});`, eval: true };
  }
  return { script: path.join(__dirname, "trainWorker.js"), eval: false };
}

export class WorkerHost implements ComputeHost {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lastMemory?: ComputeMemory;
  private readonly cancel = new CancelFlag();

  constructor(private readonly engineModule: EngineModule) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry();
    const workerData: WorkerData = { engineModule: this.engineModule, cancel: this.cancel.buffer };
    // stdout: true keeps the worker's console output off our stdout (the daemon's JSON-RPC pipe).
    const w = new Worker(entry.script, { eval: entry.eval, workerData, stdout: true });
    w.stdout.pipe(process.stderr);
    w.on("message", (m: HostReply) => this.onReply(m));
    w.on("error", (e) => this.failAll(new Error(`training worker crashed: ${e.message}`)));
    w.on("exit", (code) => {
      this.worker = undefined;
      this.failAll(new Error(`training worker exited with code ${code}`));
    });
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onReply(m: HostReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    switch (m.kind) {
      case "event":
        p.onEvent?.(m.event);
        return;
      case "progress":
        p.onProgress?.(m.progress);
        return;
      case "result":
        this.lastMemory = m.memory;
        this.pending.delete(m.id);
        p.resolve(m.value);
        return;
      case "error":
        this.lastMemory = m.memory;
        this.pending.delete(m.id);
        p.reject(reviveError(m.error));
        return;
    }
  }

  private call<T>(method: HostMethod, args: unknown[], extra: Omit<Pending, "resolve" | "reject"> = {}, signal?: AbortSignal): Promise<T> {
    const w = this.start();
    const id = this.nextId++;
    if (signal) {
      const raise = () => this.cancel.raise(id);
      if (signal.aborted) raise();
      else signal.addEventListener("abort", raise, { once: true });
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...extra });
      w.postMessage({ id, method, args } satisfies HostCall);
    });
  }

  openSession(runDir: string, cfg: ResolvedRunConfig, resume: boolean, onProgress?: (p: EngineProgress) => void): Promise<SessionInfo> {
    return this.call("openSession", [runDir, cfg, resume], { onProgress });
  }
  runStep(emit: (e: TrainEvent) => void): Promise<SessionInfo> {
    return this.call("runStep", [], { onEvent: emit });
  }
  saveCheckpoint(): Promise<string> {
    return this.call("saveCheckpoint", []);
  }
  saveAdapters(): Promise<string[]> {
    return this.call("saveAdapters", []);
  }
  closeSession(): Promise<void> {
    return this.worker ? this.call("closeSession", []) : Promise.resolve();
  }
  merge(runDir: string, cfg: ResolvedRunConfig, strategy: MergeStrategy, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: AbortSignal): Promise<MergeOutcome> {
    return this.call("merge", [runDir, cfg, strategy, from], { onProgress }, signal);
  }
  evaluate(runDir: string, cfg: ResolvedRunConfig, attacks: string | undefined, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: AbortSignal): Promise<unknown> {
    return this.call("evaluate", [runDir, cfg, attacks, from], { onProgress }, signal);
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
    this.worker = undefined;
    await w.terminate();
  }
}

/** The worker side: serves an InProcessHost over `port` (called by entry.ts). */
export function serveComputeHost(port: MessagePort, data: WorkerData): void {
  const host = new InProcessHost(loadEngine(data.engineModule));
  const cancel = new CancelFlag(data.cancel);
  const post = (m: HostReply) => port.postMessage(m);
  // Calls run one at a time, in order, like the in-process host.
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (c: HostCall) => {
    chain = chain.then(async () => {
      try {
        const value = await dispatch(host, c, post, cancel.signalFor(c.id));
        post({ id: c.id, kind: "result", value, memory: host.memory() });
      } catch (e) {
        post({ id: c.id, kind: "error", error: serializeError(e), memory: host.memory() });
      }
    });
  });
}

function dispatch(host: InProcessHost, c: HostCall, post: (m: HostReply) => void, signal: CancelSignal): Promise<unknown> {
  const a = c.args;
  const onProgress = (progress: EngineProgress) => post({ id: c.id, kind: "progress", progress });
  switch (c.method) {
    case "openSession":
      return host.openSession(a[0] as string, a[1] as ResolvedRunConfig, a[2] as boolean, onProgress);
    case "runStep":
      return host.runStep((event) => post({ id: c.id, kind: "event", event }));
    case "saveCheckpoint":
      return host.saveCheckpoint();
    case "saveAdapters":
      return host.saveAdapters();
    case "closeSession":
      return host.closeSession();
    case "merge":
      return host.merge(a[0] as string, a[1] as ResolvedRunConfig, a[2] as MergeStrategy, onProgress, a[3] as CheckpointRef | undefined, signal);
    case "evaluate":
      return host.evaluate(a[0] as string, a[1] as ResolvedRunConfig, a[2] as string | undefined, onProgress, a[3] as CheckpointRef | undefined, signal);
  }
}
