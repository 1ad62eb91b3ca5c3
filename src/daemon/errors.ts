// Errors with a "where": the RPC server turns them into JSON-RPC errors (src/daemon/rpcErrors.ts),
// the CLI prints their message. They cross a worker-thread boundary as plain objects
// (serializeError) and come back as their class (reviveError), so `instanceof` works on both
// sides. The config and loss errors live in core (src/core/config/configError.ts,
// src/core/train/nonFiniteLossError.ts): the engine throws them.
import { ConfigError } from "../core/config/configError";
import { NonFiniteLossError } from "../core/train/nonFiniteLossError";
import { EvaluationCancelledError } from "../core/evaluate/evaluationCancelledError";

/** A file the request or config names does not exist (`configFile`: the config that names it). */
export class MissingFileError extends Error {
  constructor(readonly file: string, readonly jsonPath?: string, readonly configFile?: string) {
    super(`file not found: ${file}${jsonPath ? ` (${configFile ? `${configFile} ` : "config "}${jsonPath})` : ""}`);
    this.name = "MissingFileError";
  }
}

/** The estimate says the run would exceed the backend's memory (wasm stops near 3.9 GiB and
 * corrupts tensors before it errors, see README.md, "Compute backends"). */
export class MemoryLimitError extends Error {
  /** `advice` follows the detail; "" when the detail already says what to change. */
  constructor(readonly bytes: number, readonly limitBytes: number, detail: string, advice = "reduce batch size or model size") {
    super(
      `estimated peak memory ${(bytes / 2 ** 30).toFixed(2)} GiB is over the limit of ` +
        `${(limitBytes / 2 ** 30).toFixed(2)} GiB (${detail})${advice ? `; ${advice}` : ""}`,
    );
    this.name = "MemoryLimitError";
  }
}

export class UnknownRunError extends Error {
  constructor(readonly runId: string, why?: string) {
    super(`unknown run "${runId}"${why ? `: ${why}` : ""}`);
    this.name = "UnknownRunError";
  }
}

/** The run's state does not allow the operation. */
export class InvalidStateError extends Error {
  constructor(readonly runId: string, readonly state: string, action: string) {
    super(`cannot ${action} run "${runId}" while it is ${state}`);
    this.name = "InvalidStateError";
  }
}

/** A merge or evaluation was cancelled before it wrote anything. Engines throw it (or the
 * evaluator's EvaluationCancelledError) when their signal is aborted. */
export class OperationCancelledError extends Error {
  constructor(readonly runId: string, readonly operation: string) {
    super(`${operation} of run "${runId}" was cancelled; nothing was written`);
    this.name = "OperationCancelledError";
  }
}

/** Another live process (a CLI or another daemon) owns the run; `owner` says who and why it
 * counts as alive (see runLock.ts). */
export class RunBusyError extends Error {
  constructor(readonly runId: string, readonly pid: number, readonly owner = `pid ${pid}`) {
    super(
      `run "${runId}" is owned by another live process: ${owner}. ` +
        `To take it over anyway (that process stops writing to it at its next heartbeat): hyperat resume --force, or "HyperAT: Take Over Run"`,
    );
    this.name = "RunBusyError";
  }
}

/** Plain-object form of an error for postMessage; `reviveError` turns it back into the class. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  props: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: "Error", message: String(e), props: {} };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (typeof v !== "function" && typeof v !== "object") props[k] = v;
  return { name: e.name, message: e.message, stack: e.stack, props };
}

/** The classes a revived error gets back by name; the rest stay plain `Error`s with that name. */
const REVIVED: Record<string, { prototype: Error }> = {
  ConfigError,
  NonFiniteLossError,
  MissingFileError,
  MemoryLimitError,
  UnknownRunError,
  InvalidStateError,
  OperationCancelledError,
  RunBusyError,
  EvaluationCancelledError,
};

export function reviveError(s: SerializedError): Error {
  const e = new Error(s.message);
  if (Object.hasOwn(REVIVED, s.name)) Object.setPrototypeOf(e, REVIVED[s.name].prototype);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  Object.assign(e, s.props);
  return e;
}
