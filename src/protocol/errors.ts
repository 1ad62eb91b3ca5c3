// JSON-RPC error codes the daemon answers with (application range, see JSON-RPC 2.0 §5.1).
// `data` carries the machine-readable "where": a JSON path into the config, a file, a run id.

export const ErrorCodes = {
  /** No run with that id in this workspace. data: {runId} */
  UnknownRun: -32001,
  /** The config does not validate. data: {jsonPath, file} */
  InvalidConfig: -32002,
  /** A file named by the request or the config does not exist. data: {file, jsonPath?} */
  MissingFile: -32003,
  /** The requested compute backend cannot load. data: {backend} */
  BackendUnavailable: -32004,
  /** The run's estimated peak memory is over the backend's limit (data: {bytes, limitBytes}),
   * or the engine ran out of memory while working (data: {}). */
  MemoryLimit: -32005,
  /** The run is in a state that does not allow this (e.g. merge while running). data: {runId, state} */
  InvalidState: -32006,
  /** The run is owned by another live process (CLI or daemon). data: {runId, pid} */
  RunBusy: -32007,
  /** The merge or evaluation was cancelled (`hyperat/run.cancel`, or stop while it ran); nothing
   * was written. data: {runId} */
  OperationCancelled: -32008,
  /** The engine failed. */
  EngineError: -32010,
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The `data` of a HyperAT JSON-RPC error. */
export interface HyperatErrorData {
  runId?: string;
  jsonPath?: string;
  file?: string;
  state?: string;
  backend?: string;
  bytes?: number;
  limitBytes?: number;
  pid?: number;
}
