// JSON-RPC methods between the extension host (client) and the training daemon (server),
// framed as LSP (Content-Length headers) over the daemon's stdio by vscode-jsonrpc.
// One constant per method; the comment says who sends it. docs/protocol.md documents each one
// (test/protocol/docs.test.ts checks that it names every constant exported here).
import { NotificationType, RequestType, RequestType0 } from "vscode-jsonrpc";
// Type only (erased at build): the adapter facts are defined once, where the backend reads them.
import type { GpuAdapterInfo } from "../core/backend/select";
import type { EvaluationReport } from "../core/evaluate/runReportJson";
import type { ModelSelector } from "./modelSelector";
import type {
  BaseModelRecord,
  CheckpointRef,
  EvaluationRecord,
  LoraNormsSnapshot,
  MergeRecord,
  MergeStrategy,
  RunDetail,
  RunState,
  RunSummary,
  StepMetric,
} from "./runs";

// ---------------------------------------------------------------- lifecycle

export interface InitializeParams {
  /** e.g. "vscode" or "test". */
  clientName?: string;
  /** Workspace whose `.hyperat/runs/` the daemon manages; defaults to the daemon's --workspace or cwd. */
  workspaceFolder?: string;
}
/** The compute device as the backend reports it (src/core/backend/select.ts `deviceFacts`). */
export interface DeviceFacts {
  /** webgpu: the adapter in use. */
  gpu?: GpuAdapterInfo;
  /** tensorflow / tensorflow-gpu: whether libtensorflow registered a GPU device. */
  gpuDeviceInUse?: boolean;
}

export interface InitializeResult {
  /** Daemon (package) version. */
  version: string;
  /** Compute backend the daemon chose at start ("wasm", "cpu", ...). */
  backend: string;
  /** One line for people: the backend and, on wasm, what runs its matMuls (native BLAS or XNNPACK). */
  compute?: string;
  /** What the device says about itself (webgpu adapter, tensorflow-gpu device); absent on cpu/wasm. */
  device?: DeviceFacts;
  runsDir: string;
  capabilities: {
    /** Runs that may train at the same time; later ones wait as `queued`. */
    maxConcurrentRuns: number;
    mergeStrategies: MergeStrategy[];
    /** Training runs in a worker thread, so requests are answered while a step computes. */
    workerThreads: boolean;
  };
}
/** Client → daemon, first request. Calling it again re-reads nothing and returns the same. */
export const initialize = new RequestType<InitializeParams, InitializeResult, void>("initialize");

/** Client → daemon: pause active runs at their next step boundary (checkpoint written), answer,
 * then exit. Paused runs resume with `hyperat/run.resume` in the next daemon. */
export const shutdown = new RequestType0<null, void>("shutdown");

// ---------------------------------------------------------------- runs

export interface RunIdParams {
  runId: string;
}

export interface RunsListResult {
  runs: RunSummary[];
}
/** Client → daemon: every run in the workspace's `.hyperat/runs/`, newest first. */
export const runsList = new RequestType0<RunsListResult, void>("hyperat/runs.list");

export interface RunStartParams {
  /** A `*.hyperat.json` file; relative paths inside it resolve against its folder. */
  configPath: string;
}
export interface RunStartResult {
  runId: string;
}
/** Client → daemon: validate the config, freeze a copy into a new run folder and queue it.
 * Errors: InvalidConfig (data.jsonPath), MissingFile (data.file), MemoryLimit, BackendUnavailable. */
export const runStart = new RequestType<RunStartParams, RunStartResult, void>("hyperat/run.start");

/** Client → daemon: pause at the next step boundary; the answer comes at once with state
 * `pausing`, then a `hyperat/run.status` with `paused` after the checkpoint is written. */
export const runPause = new RequestType<RunIdParams, RunSummary, void>("hyperat/run.pause");

export interface RunResumeParams extends RunIdParams {
  /** Take the run over from the live process that owns it ("Take Over Run"): that process finds
   * it lost the run before its next write and stops working on it. Without it such a run
   * answers RunBusy naming its owner. */
  force?: boolean;
}

/** Client → daemon: continue a paused, stopped, interrupted or failed run from its latest
 * checkpoint (queued first if another run is training). While `pausing` it cancels the pause. */
export const runResume = new RequestType<RunResumeParams, RunSummary, void>("hyperat/run.resume");

/** Client → daemon: stop at the next step boundary with a checkpoint; the run stays resumable. */
export const runStop = new RequestType<RunIdParams, RunSummary, void>("hyperat/run.stop");

export interface RunMergeParams extends RunIdParams {
  strategy: MergeStrategy;
  /** Which checkpoint's LoRAs: "latest" (default), "best" (checkpoints/best/) or "step-<n>". */
  from?: CheckpointRef;
}
export type RunMergeResult = MergeRecord;
/** Client → daemon: merge the per-defense LoRAs of a paused, stopped or completed run into
 * `merged/`; reports progress through `hyperat/progress`. */
export const runMerge = new RequestType<RunMergeParams, RunMergeResult, void>("hyperat/run.merge");

export interface RunEvaluateParams extends RunIdParams {
  /** Attack suite name or comma-separated attack list; the config's suite when omitted. */
  attacks?: string;
  /** Which checkpoint's LoRAs: "latest" (default), "best" or "step-<n>"; merged models are evaluated as merged. */
  from?: CheckpointRef;
  /** Only this model of the run ("Evaluate This Model"), with the run's evaluation settings; its
   * report goes to reports/<model>-<time>/ (src/protocol/modelSelector.ts) and the run's own
   * report.json stays as it is. Every model when omitted. Errors: InvalidParams naming a model
   * the run does not have. */
  model?: ModelSelector;
}
export interface RunEvaluateResult {
  /** Path of the report.json written: the run folder's, or reports/<model>-<time>/report.json for one model. */
  reportPath: string;
  /** Records extracted from the report (one per evaluated model). */
  records: EvaluationRecord[];
  /** The engine's full report (report.json). */
  report: EvaluationReport;
}
/** Client → daemon: evaluate a paused, stopped or completed run (its LoRAs and merges, or the one
 * model `model` names) and write report.json + report.md; reports progress through `hyperat/progress`. */
export const runEvaluate = new RequestType<RunEvaluateParams, RunEvaluateResult, void>("hyperat/run.evaluate");

/** Client → daemon: cancel the run's merge or evaluation in progress. The evaluation stops between
 * batches, the merge between λ steps; nothing is written, the run returns to its state before, and
 * the pending merge/evaluate request fails with OperationCancelled. Errors: InvalidState when the
 * run is not merging or evaluating. */
export const runCancel = new RequestType<RunIdParams, RunSummary, void>("hyperat/run.cancel");

/** Client → daemon: the full state of one run, including recent metrics. */
export const runGet = new RequestType<RunIdParams, RunDetail, void>("hyperat/run.get");

// ---------------------------------------------------------------- configs

export interface ConfigCheckParams {
  /** Where the document lives (or will be saved): its relative paths resolve against its folder. */
  configPath: string;
  /** The document's text, saved or not. */
  text: string;
}
/** One problem of the up-front pass at a JSON path (RFC 6901, "" = the whole document). */
export interface ConfigCheckProblem {
  jsonPath: string;
  /** The full text, without the file and path prefix. */
  message: string;
  /** Memory-plan warnings (merge, evaluation over the limit) are warnings; the rest refuse a run. */
  severity: "error" | "warning";
}
export interface ConfigCheckResult {
  problems: ConfigCheckProblem[];
}
/** Client → daemon: run the whole up-front pass that `hyperat/run.start` runs (schema, attacks,
 * data files, model header, bounds, cache folder, backend, memory plan) on a document's text and
 * answer every problem instead of the first; nothing is written. The editor's diagnostics. */
export const configCheck = new RequestType<ConfigCheckParams, ConfigCheckResult, void>("hyperat/config.check");

// ---------------------------------------------------------------- notifications

export interface RunStatusParams {
  runId: string;
  state: RunState;
  step: number;
  totalSteps: number;
  message?: string;
}
/** Daemon → client: a run changed state (and after each checkpoint, with its step). */
export const runStatus = new NotificationType<RunStatusParams>("hyperat/run.status");

export type RunMetricsParams = { runId: string } & StepMetric;
/** Daemon → client: one training step finished. */
export const runMetrics = new NotificationType<RunMetricsParams>("hyperat/run.metrics");

export type RunLoraNormsParams = { runId: string } & LoraNormsSnapshot;
/** Daemon → client: ‖ΔW‖_F per layer of each defense's LoRA (at the config's interval). */
export const runLoraNorms = new NotificationType<RunLoraNormsParams>("hyperat/run.loraNorms");

export type RunEvaluationParams = { runId: string } & EvaluationRecord;
/** Daemon → client: a validation during training or an evaluation measured one model. */
export const runEvaluation = new NotificationType<RunEvaluationParams>("hyperat/run.evaluation");

export type RunBaseModelParams = { runId: string } & BaseModelRecord;
/** Daemon → client: the base model's clean accuracy, measured when a run starts at step 0 (after
 * clean pretraining or loading model.path); `nearChance` asks the client to warn. */
export const runBaseModel = new NotificationType<RunBaseModelParams>("hyperat/run.baseModel");

export interface DaemonStatusParams {
  health: "ok" | "warning" | "error";
  backend: string;
  /** tf.memory().numTensors of the compute thread (the training worker when one is running). */
  numTensors: number;
  /** tf.memory().numBytes of the compute thread. */
  memoryBytes: number;
  /** Runs training now. */
  activeRuns: number;
  message?: string;
}
/** Daemon → client: after initialize, on every run state change, and every few seconds while
 * a run trains. */
export const daemonStatus = new NotificationType<DaemonStatusParams>("hyperat/daemon.status");

/** LSP's work-done progress shape (vscode-languageserver-node protocol.progress.ts). */
export type ProgressValue =
  | {
      kind: "begin";
      /** What the operation is, e.g. "Merging run-3 (adaptive)". */
      title: string;
      /** Whether the client may offer cancellation: merge and evaluation are cancellable
       * (`hyperat/run.cancel`), session preparation is not. */
      cancellable: boolean;
      message?: string;
      percentage?: number;
    }
  | {
      kind: "report";
      message?: string;
      /** 0..100. */
      percentage?: number;
    }
  | {
      kind: "end";
      message?: string;
    };
/** prepare: clean pretraining or data loading before the first step; validate: the periodic
 * validation during training (training.validateEvery); merge, evaluate: those requests. */
export type ProgressOperation = "prepare" | "validate" | "merge" | "evaluate";
export interface ProgressParams {
  /** Unique per operation, e.g. "<runId>/merge/1"; begin, reports and end share it. */
  token: string;
  /** The run the operation belongs to. */
  runId?: string;
  /** Which operation of the run: clean pretraining/data preparation, a validation, a merge, an evaluation. */
  operation?: ProgressOperation;
  value: ProgressValue;
}
/** Daemon → client: progress of a long operation (merge, evaluate, slow session preparation). */
export const progress = new NotificationType<ProgressParams>("hyperat/progress");
