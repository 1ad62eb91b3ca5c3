// Where a run's tensors live. The RunManager talks to a ComputeHost; `InProcessHost` calls the
// engine directly, `WorkerHost` (workerProxy.ts) runs the very same InProcessHost in a worker
// thread so the daemon's event loop keeps answering while a step computes. One code path.
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../core/backend/select";
import type { EvaluationReport, MergeOutcome, RunEngine, TrainSession } from "./contract";
import type { RpcArgs } from "./workerRpc";

export interface ComputeMemory {
  backend: string;
  numTensors: number;
  numBytes: number;
}

export interface SessionInfo {
  step: number;
  totalSteps: number;
}

/** The engine calls a host forwards, with their parameters as the contract writes them, except
 * that a cancel signal must be an AbortSignal (a worker host listens to it; workerRpc.ts). */
type EngineArgs<K extends "openSession" | "merge" | "evaluate"> = RpcArgs<RunEngine, K>;

/** A compute thread's calls: the engine's and the session's, typed from the contract (contract.ts)
 * so that none of their signatures is written out again here or in workerProxy.ts. */
export interface ComputeHost {
  openSession(...args: EngineArgs<"openSession">): Promise<SessionInfo>;
  /** One optimizer step; returns the step count after it. */
  runStep(...args: Parameters<TrainSession["runStep"]>): Promise<SessionInfo>;
  saveCheckpoint(): Promise<string>;
  saveAdapters(): Promise<string[]>;
  closeSession(): Promise<void>;
  /** The signal aborts the merge between λ steps (RunManager's cancel); nothing is written then. */
  merge(...args: EngineArgs<"merge">): Promise<MergeOutcome>;
  /** The signal aborts the evaluation between batches; no report is written then. */
  evaluate(...args: EngineArgs<"evaluate">): Promise<EvaluationReport>;
  /** Memory of the compute thread as of the last call (tf.memory()). */
  memory(): ComputeMemory | undefined;
  /** Releases the session and, for a worker, the thread. */
  terminate(): Promise<void>;
}

/** tf.memory() of this thread. */
export function tfMemory(): ComputeMemory {
  const m = tf.memory();
  return { backend: tf.getBackend() ?? "none", numTensors: m.numTensors, numBytes: m.numBytes };
}

export class InProcessHost implements ComputeHost {
  private session?: TrainSession;

  constructor(private readonly engine: RunEngine) {}

  private need(): TrainSession {
    if (!this.session) throw new Error("no training session is open in this compute host");
    return this.session;
  }

  private info(): SessionInfo {
    const s = this.need();
    return { step: s.step, totalSteps: s.totalSteps };
  }

  async openSession(...args: Parameters<RunEngine["openSession"]>): Promise<SessionInfo> {
    await this.closeSession();
    await selectBackend(args[1].backend);
    this.session = await this.engine.openSession(...args);
    return this.info();
  }

  async runStep(...args: Parameters<TrainSession["runStep"]>): Promise<SessionInfo> {
    await this.need().runStep(...args);
    return this.info();
  }

  saveCheckpoint(): Promise<string> {
    return this.need().saveCheckpoint();
  }

  saveAdapters(): Promise<string[]> {
    return this.need().saveAdapters();
  }

  async closeSession(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    s?.dispose();
  }

  // A worker host's calls arrive here with a CancelFlag's signal (workerRpc.ts), so these take
  // the contract's CancelSignal rather than ComputeHost's AbortSignal.
  async merge(...args: Parameters<RunEngine["merge"]>): Promise<MergeOutcome> {
    await selectBackend(args[1].backend);
    return this.engine.merge(...args);
  }

  async evaluate(...args: Parameters<RunEngine["evaluate"]>): Promise<EvaluationReport> {
    await selectBackend(args[1].backend);
    return this.engine.evaluate(...args);
  }

  memory(): ComputeMemory {
    return tfMemory();
  }

  async terminate(): Promise<void> {
    await this.closeSession();
  }
}
