/**
 * Raw engine errors say nothing a user can act on: the wasm backend dies with `Aborted()` or
 * `memory access out of bounds` when its heap (about 4 GiB) is full, V8 with `Invalid typed
 * array length: 3072000000000` or `Array buffer allocation failed` (issue 15). This maps them,
 * by their text (they cross worker threads as plain messages), to a message saying what ran
 * out and what to change. Every place an error reaches the user (the CLI, a failed run's
 * message, an RPC error) passes it through `explainError`.
 */

/** An error that says which resource ran out and what to lower. */
export class ResourceExhaustedError extends Error {
  constructor(
    message: string,
    readonly resource: "wasm heap" | "memory",
    readonly raw: string,
  ) {
    super(message);
    this.name = "ResourceExhaustedError";
  }
}

/** What to lower, said once for every out-of-memory message. */
const WHAT_TO_CHANGE =
  "lower the batch size (training.batchSize, evaluation.batchSize, merge.batchSize or --batch), " +
  "the number of samples (n= in the data spec, evaluation.n or --n), or the image/model size (size=, model.preset)";

/** Longest raw text quoted in a message (raw errors can carry megabytes of input). */
const MAX_QUOTE = 200;

export function quote(text: string, max = MAX_QUOTE): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

function typedArraySize(raw: string): string | undefined {
  const m = /Invalid typed array length: (\d+)/.exec(raw);
  if (!m) return undefined;
  return `${m[1]} elements (${((4 * Number(m[1])) / 2 ** 30).toFixed(1)} GiB as float32)`;
}

/**
 * The user-facing form of `e`: an out-of-memory engine error becomes a ResourceExhaustedError;
 * anything else is returned unchanged (the same object, so its name and fields survive).
 */
export function explainError(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  // Only the engine's and V8's own error classes; ours (ConfigError, ...) may quote user text.
  if (!["Error", "RangeError", "RuntimeError", "TypeError"].includes(err.name)) return err;
  const raw = err.message ?? "";
  if (/^Aborted\(|\bAborted\(\)|memory access out of bounds|Out of bounds memory access|WebAssembly\.Memory\(\): could not allocate|Cannot enlarge memory/i.test(raw)) {
    return new ResourceExhaustedError(
      `out of memory: the wasm backend's heap (at most about 4 GiB) is full (engine said: ${quote(raw)}); ${WHAT_TO_CHANGE}`,
      "wasm heap",
      raw,
    );
  }
  const size = typedArraySize(raw);
  if (size || /Invalid typed array length|Array buffer allocation failed|Invalid array buffer length|Invalid array length|OOM when allocating|out of memory/i.test(raw)) {
    return new ResourceExhaustedError(
      `out of memory: an array${size ? ` of ${size}` : ""} could not be allocated (engine said: ${quote(raw)}); ${WHAT_TO_CHANGE}`,
      "memory",
      raw,
    );
  }
  return err;
}
