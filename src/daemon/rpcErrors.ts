// Maps the daemon's errors (recognised by name, see errors.ts) to JSON-RPC errors whose message
// says what and whose data says where.
import { ErrorCodes as RpcCodes, ResponseError } from "vscode-jsonrpc";
import { ErrorCodes, type HyperatErrorData } from "../protocol/errors";
import { explainError, quote } from "../core/engineErrors";
import type { CheckpointRef } from "../protocol/runs";
import { parseModelSelector, type ModelSelector } from "../protocol/modelSelector";

type Props = Record<string, unknown>;
/** Request fields echoed back are capped: a 50 MB run id must not come back (and be logged) whole. */
const str = (v: unknown) => (typeof v === "string" ? quote(v, 1000) : undefined);
const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/** Drops undefined fields so the JSON stays small. */
function data(d: HyperatErrorData): HyperatErrorData {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as HyperatErrorData;
}

export function toResponseError(e: unknown): ResponseError<HyperatErrorData | undefined> {
  if (e instanceof ResponseError) return e;
  const err = explainError(e);
  const p = err as unknown as Props;
  const re = byName(err, p);
  return re.message.length > 4000 ? new ResponseError(re.code, quote(re.message, 4000), re.data) : re;
}

function byName(err: Error, p: Props): ResponseError<HyperatErrorData | undefined> {
  switch (err.name) {
    case "ConfigError":
      return new ResponseError(ErrorCodes.InvalidConfig, `invalid config: ${err.message}`, data({ jsonPath: str(p.jsonPath) ?? "", file: str(p.file) }));
    case "MissingFileError":
      return new ResponseError(ErrorCodes.MissingFile, err.message, data({ file: str(p.file), jsonPath: str(p.jsonPath) }));
    case "BackendUnavailableError":
      return new ResponseError(ErrorCodes.BackendUnavailable, err.message, data({ backend: str(p.requested) }));
    case "MemoryLimitError":
      return new ResponseError(ErrorCodes.MemoryLimit, err.message, data({ bytes: num(p.bytes), limitBytes: num(p.limitBytes) }));
    case "ResourceExhaustedError":
      return new ResponseError(ErrorCodes.MemoryLimit, err.message, data({}));
    case "UnknownRunError":
      return new ResponseError(ErrorCodes.UnknownRun, err.message, data({ runId: str(p.runId) }));
    case "InvalidStateError":
      return new ResponseError(ErrorCodes.InvalidState, err.message, data({ runId: str(p.runId), state: str(p.state) }));
    case "RunBusyError":
      return new ResponseError(ErrorCodes.RunBusy, err.message, data({ runId: str(p.runId), pid: num(p.pid) }));
    case "RunPathError":
      return new ResponseError(ErrorCodes.InvalidState, err.message, data({ file: str(p.file) }));
    case "OperationCancelledError":
      return new ResponseError(ErrorCodes.OperationCancelled, err.message, data({ runId: str(p.runId) }));
    case "InvalidParamsError":
      return new ResponseError(RpcCodes.InvalidParams, err.message, undefined);
    default:
      return new ResponseError(ErrorCodes.EngineError, err.message, undefined);
  }
}

export class InvalidParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidParamsError";
  }
}

/** Checks that `params` is an object whose `fields` are strings (optional ones may be absent). */
export function requireStrings<K extends string>(
  method: string,
  params: unknown,
  fields: K[],
  optional: string[] = [],
): Record<K, string> {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new InvalidParamsError(`${method}: params must be an object with ${fields.join(", ")}`);
  }
  const o = params as Props;
  for (const f of fields) {
    if (typeof o[f] !== "string" || o[f] === "") throw new InvalidParamsError(`${method}: params.${f} must be a non-empty string`);
  }
  for (const f of optional) {
    if (o[f] !== undefined && typeof o[f] !== "string") throw new InvalidParamsError(`${method}: params.${f} must be a string when given`);
  }
  return o as Record<K, string>;
}

/** An optional `from` checkpoint param: "latest" when absent, else "best", "latest" or "step-<n>". */
/** `params.model` of hyperat/run.evaluate: undefined (every model) or a ModelSelector. */
export function modelParam(method: string, v: unknown): ModelSelector | undefined {
  if (v === undefined) return undefined;
  const m = parseModelSelector(v, "params.model");
  if ("problem" in m) throw new InvalidParamsError(`${method}: ${m.problem}`);
  return m;
}

export function checkpointParam(method: string, v: unknown): CheckpointRef {
  if (v === undefined) return "latest";
  if (typeof v === "string" && (v === "best" || v === "latest" || /^step-\d+$/.test(v))) return v as CheckpointRef;
  throw new InvalidParamsError(`${method}: params.from must be "best", "latest" or "step-<n>", got ${JSON.stringify(v)}`);
}
