// Maps the daemon's errors (recognised by name, see errors.ts) to JSON-RPC errors whose message
// says what and whose data says where.
import { ErrorCodes as RpcCodes, ResponseError } from "vscode-jsonrpc";
import { ErrorCodes, type HyperatErrorData } from "../protocol/errors";

type Props = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/** Drops undefined fields so the JSON stays small. */
function data(d: HyperatErrorData): HyperatErrorData {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as HyperatErrorData;
}

export function toResponseError(e: unknown): ResponseError<HyperatErrorData | undefined> {
  if (e instanceof ResponseError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const p = err as unknown as Props;
  switch (err.name) {
    case "ConfigError":
      return new ResponseError(ErrorCodes.InvalidConfig, `invalid config: ${err.message}`, data({ jsonPath: str(p.jsonPath) ?? "", file: str(p.file) }));
    case "MissingFileError":
      return new ResponseError(ErrorCodes.MissingFile, err.message, data({ file: str(p.file), jsonPath: str(p.jsonPath) }));
    case "BackendUnavailableError":
      return new ResponseError(ErrorCodes.BackendUnavailable, err.message, data({ backend: str(p.requested) }));
    case "MemoryLimitError":
      return new ResponseError(ErrorCodes.MemoryLimit, err.message, data({ bytes: num(p.bytes), limitBytes: num(p.limitBytes) }));
    case "UnknownRunError":
      return new ResponseError(ErrorCodes.UnknownRun, err.message, data({ runId: str(p.runId) }));
    case "InvalidStateError":
      return new ResponseError(ErrorCodes.InvalidState, err.message, data({ runId: str(p.runId), state: str(p.state) }));
    case "RunBusyError":
      return new ResponseError(ErrorCodes.RunBusy, err.message, data({ runId: str(p.runId), pid: num(p.pid) }));
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
