// The narrow interface between the daemon (queue, state machine, run store, RPC) and the
// training engine (src/core/train via src/daemon/engine/hyperatEngine.ts). The daemon never touches
// tensors; it drives a TrainSession one step at a time and persists what it emits.
import type { BackendRequest } from "../../core/backend/names";
import type { MergeStrategy, RunConfig } from "../../core/config/types";
import type { EvaluationReport } from "../../core/evaluate/runReportJson";
import type { BaseModelRecord, CheckpointRef, MergeObjective, LoraNormsSnapshot, EvaluationRecord, StepMetric } from "../../protocol/runs";
import type { CancelSignal } from "../cancelFlag";
import type { ConfigCheckProblem } from "../../protocol/methods";
import type { ModelSelector } from "../../protocol/modelSelector";
export type { CancelSignal, EvaluationReport };

/** What a session reports while it trains; each event but "validating" becomes one metrics.jsonl line. */
export type TrainEvent =
  | ({ kind: "step" } & StepMetric)
  | ({ kind: "loraNorms" } & LoraNormsSnapshot)
  | ({ kind: "validation" } & EvaluationRecord)
  | { kind: "log"; level: "info" | "warn" | "error"; message: string }
  /** The base model's clean accuracy (once, before the first step of a fresh run). */
  | ({ kind: "baseModel" } & BaseModelRecord)
  /** A periodic validation starts; it ends with the step's "validation" events. */
  | { kind: "validating"; step: number };

export interface EngineProgress {
  title: string;
  message?: string;
  /** 0..100 */
  percentage?: number;
}

/**
 * A loaded config: the fields the daemon needs, and the whole config for the engine. `Config` is
 * RunConfig for the HyperAT engine; a test engine (test/daemon/fakeEngine.ts) has its own, which the
 * daemon never reads: it only freezes it into config.json and hands it back.
 */
export interface ResolvedRunConfig<Config = RunConfig> {
  name: string;
  /** "hyperat" | "lora-at" | "full-at" */
  method: string;
  defenses: string[];
  totalSteps: number;
  /** Checkpoint every this many steps (also on pause, stop and completion). */
  checkpointEvery: number;
  /** Compute backend the config asks for; the daemon selects it in the compute thread. */
  backend: BackendRequest;
  /** The validated, defaults-filled config JSON (frozen into the run folder as config.json). */
  raw: Config;
}

/** A run's memory plan as the daemon sees it (src/core/memory/plan.ts makes the real one). */
export interface MemoryEstimate {
  /** Peak bytes over every phase (training, validation, merge, evaluation). */
  bytes: number;
  /** What the active backend can hold. */
  limitBytes: number;
  /** False when some phase is over the limit even at micro-batch 1 or at its configured batch. */
  fits: boolean;
  /** The peak phase when it fits; else each phase over the limit and what to change. */
  detail: string;
  /** The plan, one line per phase, for `hyperat check` and logs. */
  lines?: string[];
  /** The training micro-batch ("auto" resolved). */
  microBatch?: number;
}

export interface MergeOutcome {
  /** Path of the merged safetensors file (absolute, inside runDir/merged/). */
  modelPath: string;
  /** Adaptive merging's λ: one value per layer for each defense. */
  lambdas?: Record<string, number[]>;
  /** Adaptive merging's objective before and after, with the steps run. */
  objective?: MergeObjective;
  /** The training step of the checkpoint merged. */
  step?: number;
}

/** One model to evaluate ("Evaluate This Model") and where its report goes. */
export interface ModelEvaluationTarget {
  model: ModelSelector;
  /** Relative to the run folder (modelReportDir, src/protocol/modelSelector.ts); the engine writes
   * report.json + report.md there, all or nothing, and leaves the run's report.json alone. */
  reportDir: string;
}

export interface RunEngine<Config = RunConfig> {
  /** Reads and validates a *.hyperat.json (throws ConfigError with the JSON path, MissingFileError
   * for data/model files that do not exist); resolves relative paths against the file's folder. */
  loadConfig(configPath: string): Promise<ResolvedRunConfig<Config>>;
  /** Re-validates the frozen copy saved in a run folder (runDir/config.json). */
  loadFrozenConfig(runDir: string): Promise<ResolvedRunConfig<Config>>;
  /** Before a resume: re-runs the up-front checks on runDir/config.json against the files as
   * they are now (data files, model file, cache folder), throwing ConfigError/MissingFileError
   * naming the JSON path; writes nothing. Engines without files to check leave it out. */
  recheckFrozenConfig?(runDir: string): Promise<void>;
  /** Every problem of the up-front pass on a document's text (`hyperat/config.check`, the
   * editor's diagnostics); writes nothing. Engines without that pass leave it out. */
  checkConfigText?(text: string, configPath: string): Promise<ConfigCheckProblem[]>;
  /** Estimated peak memory for this config (docs/memory.md); the daemon refuses a run that
   * does not fit before its folder exists. */
  estimateMemory(cfg: ResolvedRunConfig<Config>): Promise<MemoryEstimate>;
  /** Opens a session at step 0, or at the latest checkpoint in runDir/checkpoints if `resume`.
   * Slow preparation (loading data, clean-pretraining a preset) may report through `onProgress`. */
  openSession(runDir: string, cfg: ResolvedRunConfig<Config>, resume: boolean, onProgress?: (p: EngineProgress) => void): Promise<TrainSession>;
  merge(
    runDir: string,
    cfg: ResolvedRunConfig<Config>,
    strategy: MergeStrategy,
    onProgress: (p: EngineProgress) => void,
    /** The checkpoint to merge (default "latest"). */
    from?: CheckpointRef,
    /** Checked between λ steps and before anything is written; when aborted the engine throws
     * (OperationCancelledError) and leaves no file behind. */
    signal?: CancelSignal,
  ): Promise<MergeOutcome>;
  /** Evaluates the run's models, writes report.json and report.md into the run folder (the
   * engine is their only writer) and returns the report.json document; the daemon records one
   * EvaluationRecord per entry of its `models` (src/daemon/report.ts). */
  evaluate(
    runDir: string,
    cfg: ResolvedRunConfig<Config>,
    attacks: string | undefined,
    onProgress: (p: EngineProgress) => void,
    /** The checkpoint whose LoRAs are evaluated (default "latest"). */
    from?: CheckpointRef,
    /** Checked between batches; when aborted the engine throws and writes no report. */
    signal?: CancelSignal,
    /** Only this model, its report written into `only.reportDir` instead of the run's report.json. */
    only?: ModelEvaluationTarget,
  ): Promise<EvaluationReport>;
}

export interface TrainSession {
  readonly step: number;
  readonly totalSteps: number;
  /** One optimizer step (sample a defense, attack, update). Emits events; throws
   * NonFiniteLossError (src/core/train/nonFiniteLossError.ts) when the loss is NaN or infinite. */
  runStep(emit: (e: TrainEvent) => void): Promise<void>;
  /** Writes checkpoints/step-<n>.safetensors + .json atomically; returns the .safetensors path. */
  saveCheckpoint(): Promise<string>;
  /** Writes adapters/*.safetensors (one per defense) for the current state; returns their paths. */
  saveAdapters(): Promise<string[]>;
  /** Frees every tensor the session holds. */
  dispose(): void;
}
