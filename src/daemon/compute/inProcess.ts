// Where a run's tensors live. The RunManager talks to a ComputeHost; `InProcessHost` calls the
// engine directly, `WorkerHost` (workerProxy.ts) runs the very same InProcessHost in a worker
// thread so the daemon's event loop keeps answering while a step computes. One code path.
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../core/backend/select";
import type { CancelSignal } from "../cancelFlag";
import type { EngineProgress, MergeOutcome, ResolvedRunConfig, RunEngine, TrainEvent, TrainSession } from "./contract";
import type { CheckpointRef, MergeStrategy } from "../../protocol/runs";

export interface ComputeMemory {
  backend: string;
  numTensors: number;
  numBytes: number;
}

export interface SessionInfo {
  step: number;
  totalSteps: number;
}

export interface ComputeHost {
  openSession(runDir: string, cfg: ResolvedRunConfig, resume: boolean, onProgress?: (p: EngineProgress) => void): Promise<SessionInfo>;
  /** One optimizer step; returns the step count after it. */
  runStep(emit: (e: TrainEvent) => void): Promise<SessionInfo>;
  saveCheckpoint(): Promise<string>;
  saveAdapters(): Promise<string[]>;
  closeSession(): Promise<void>;
  /** `signal` aborts the merge between λ steps (RunManager's cancel); nothing is written then. */
  merge(runDir: string, cfg: ResolvedRunConfig, strategy: MergeStrategy, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: AbortSignal): Promise<MergeOutcome>;
  /** `signal` aborts the evaluation between batches; no report is written then. */
  evaluate(runDir: string, cfg: ResolvedRunConfig, attacks: string | undefined, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: AbortSignal): Promise<unknown>;
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

  async openSession(runDir: string, cfg: ResolvedRunConfig, resume: boolean, onProgress?: (p: EngineProgress) => void): Promise<SessionInfo> {
    await this.closeSession();
    await selectBackend(cfg.backend);
    this.session = await this.engine.openSession(runDir, cfg, resume, onProgress);
    return this.info();
  }

  async runStep(emit: (e: TrainEvent) => void): Promise<SessionInfo> {
    await this.need().runStep(emit);
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

  async merge(runDir: string, cfg: ResolvedRunConfig, strategy: MergeStrategy, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: CancelSignal): Promise<MergeOutcome> {
    await selectBackend(cfg.backend);
    return this.engine.merge(runDir, cfg, strategy, onProgress, from, signal);
  }

  async evaluate(runDir: string, cfg: ResolvedRunConfig, attacks: string | undefined, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: CancelSignal): Promise<unknown> {
    await selectBackend(cfg.backend);
    return this.engine.evaluate(runDir, cfg, attacks, onProgress, from, signal);
  }

  memory(): ComputeMemory {
    return tfMemory();
  }

  async terminate(): Promise<void> {
    await this.closeSession();
  }
}
