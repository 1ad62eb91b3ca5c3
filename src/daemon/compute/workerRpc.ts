// The one request/reply/stream protocol over a worker thread's port, shared by every worker the
// daemon starts: the compute worker (workerProxy.ts), the data-parallel gradient threads
// (src/daemon/parallel/gradientThreads.ts) and the evaluation pool (src/daemon/engine/evalPool.ts).
// It lives beside workerScript.ts, which those three already share for starting a thread.
//
// A call is `{ id, method, args }`; the server answers it with any number of events, then one
// result or one error. A function cannot be cloned across threads, so a function argument becomes
// a stream: each call of it in the worker posts an event that calls the original here, in order
// and before the result. An AbortSignal argument becomes the shared CancelFlag word (cancelFlag.ts
// says why not a message). Errors cross as serializeError/reviveError (src/daemon/errors.ts), so
// they keep their class; a thread that crashes or exits rejects every call still waiting.
import type { MessagePort, TransferListItem, Worker } from "node:worker_threads";
import { CancelFlag, type CancelSignal } from "../cancelFlag";
import { reviveError, serializeError, type SerializedError } from "../errors";

/** Marks a top-level argument that was replaced on the wire. */
const MARK = "__workerRpc";
type Placeholder = { [MARK]: "stream"; slot: number } | { [MARK]: "signal" };

interface RpcCall {
  id: number;
  method: string;
  args: unknown[];
}

type RpcReply<Status> = { id: number } & (
  | { kind: "event"; slot: number; event: unknown }
  | { kind: "result"; value: unknown; status?: Status }
  | { kind: "error"; error: SerializedError; status?: Status }
);

/** A result that moves its buffers to the caller instead of copying them. */
export class Transferring<T> {
  constructor(
    readonly value: T,
    readonly transfer: TransferListItem[],
  ) {}
}

/** Wraps a handler's result so `transfer` moves (detaches here) rather than being copied. */
export function transferring<T>(value: T, transfer: TransferListItem[]): Transferring<T> {
  return new Transferring(value, transfer);
}

type AnyFn = (...args: never[]) => unknown;
/** The names of `Api`'s methods. */
export type RpcMethod<Api> = { [K in keyof Api]: Api[K] extends AnyFn ? K : never }[keyof Api] & string;
/** A method's arguments as a caller passes them: a CancelSignal must be an AbortSignal, which
 * the client can watch (a plain CancelSignal has no event to listen to). */
export type RpcArgs<Api, K extends RpcMethod<Api>> = Api[K] extends (...args: infer A) => unknown ? { [I in keyof A]: Watchable<A[I]> } : never;
type Watchable<T> = T extends CancelSignal ? AbortSignal : T;
/** What a call resolves to: the handler's result, unwrapped from a Transferring. */
export type RpcResult<Api, K extends RpcMethod<Api>> = Api[K] extends (...args: never[]) => infer R ? (Awaited<R> extends Transferring<infer T> ? T : Awaited<R>) : never;

export interface RpcClientOptions<Status> {
  /** Names the thread in crash and exit errors: "training worker exited with code 3". */
  name: string;
  /** Called with the status the server attaches to each result and error (serveRpc's `status`). */
  onStatus?: (status: Status) => void;
  /** Shared with the server (serveRpc's `cancel`); AbortSignal arguments need it. */
  cancel?: CancelFlag;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  streams: Array<(event: unknown) => void>;
  /** Removes the abort listener a signal argument added. */
  cleanup?: () => void;
}

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** The caller's side: typed calls to a worker thread serving `Api` (see serveRpc). */
export class RpcClient<Api extends object, Status = never> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure?: Error;

  constructor(
    private readonly worker: Worker,
    private readonly opts: RpcClientOptions<Status>,
  ) {
    worker.on("message", (m: RpcReply<Status>) => this.onReply(m));
    worker.on("error", (e) => this.fail(new Error(`${opts.name} crashed: ${e.message}`)));
    worker.on("exit", (code) => this.fail(new Error(`${opts.name} exited with code ${code}`)));
  }

  /** Calls `method` in the worker; `transfer` moves those buffers of `args` instead of copying. */
  call<K extends RpcMethod<Api>>(method: K, args: RpcArgs<Api, K>, transfer: TransferListItem[] = []): Promise<RpcResult<Api, K>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const pending: Pending = { resolve: () => {}, reject: () => {}, streams: [] };
    let wire: unknown[];
    try {
      wire = (args as unknown[]).map((a) => this.toWire(a, id, pending));
    } catch (e) {
      return Promise.reject(asError(e));
    }
    return new Promise<RpcResult<Api, K>>((resolve, reject) => {
      pending.resolve = resolve as (v: unknown) => void;
      pending.reject = reject;
      this.pending.set(id, pending);
      try {
        this.worker.postMessage({ id, method, args: wire } satisfies RpcCall, transfer);
      } catch (e) {
        this.settle(id);
        reject(asError(e));
      }
    });
  }

  /** Rejects every waiting call and all later ones with `e` (the first failure wins). */
  fail(e: Error): void {
    this.failure ??= e;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(e);
  }

  /** Terminates the thread; later calls reject instead of waiting for a reply forever. */
  async close(): Promise<void> {
    this.fail(new Error(`${this.opts.name} was closed`));
    await this.worker.terminate();
  }

  private toWire(a: unknown, id: number, pending: Pending): unknown {
    if (typeof a === "function") {
      pending.streams.push(a as (event: unknown) => void);
      return { [MARK]: "stream", slot: pending.streams.length - 1 } satisfies Placeholder;
    }
    if (a instanceof AbortSignal) {
      const cancel = this.opts.cancel;
      if (!cancel) throw new Error(`${this.opts.name}: a call with an AbortSignal needs the client's cancel flag (RpcClientOptions.cancel)`);
      const raise = () => cancel.raise(id);
      if (a.aborted) raise();
      else {
        a.addEventListener("abort", raise, { once: true });
        pending.cleanup = () => a.removeEventListener("abort", raise);
      }
      return { [MARK]: "signal" } satisfies Placeholder;
    }
    return a;
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.cleanup?.();
    return p;
  }

  private onReply(m: RpcReply<Status>): void {
    if (m.kind === "event") {
      this.pending.get(m.id)?.streams[m.slot]?.(m.event);
      return;
    }
    if (m.status !== undefined) this.opts.onStatus?.(m.status);
    const p = this.settle(m.id);
    if (!p) return;
    if (m.kind === "result") p.resolve(m.value);
    else p.reject(reviveError(m.error));
  }
}

export interface ServeOptions<Status> {
  /** The client's CancelFlag buffer: an AbortSignal argument arrives as the flag's signal for the call. */
  cancel?: SharedArrayBuffer;
  /** Attached to every result and error, e.g. this thread's tf.memory(). */
  status?: () => Status;
}

const isPlaceholder = (a: unknown): a is Placeholder => typeof a === "object" && a !== null && MARK in a;

/**
 * The worker's side: serves `api`'s methods on `port`. Calls run one at a time in arrival order,
 * as they would for a caller in the same thread.
 */
export function serveRpc<Api extends object, Status = never>(port: MessagePort, api: Api, opts: ServeOptions<Status> = {}): void {
  const cancel = opts.cancel ? new CancelFlag(opts.cancel) : undefined;
  const post = (m: RpcReply<Status>, transfer: TransferListItem[] = []) => port.postMessage(m, transfer);
  const fromWire = (a: unknown, id: number): unknown => {
    if (!isPlaceholder(a)) return a;
    if (a[MARK] === "stream") {
      const slot = a.slot;
      return (event: unknown) => post({ id, kind: "event", slot, event });
    }
    if (!cancel) throw new Error("this worker was started without a cancel flag, so it cannot take an AbortSignal");
    return cancel.signalFor(id);
  };
  const answer = async (c: RpcCall): Promise<void> => {
    try {
      const fn = (api as Record<string, unknown>)[c.method];
      if (typeof fn !== "function") throw new Error(`worker has no method "${c.method}"`);
      const out: unknown = await fn.apply(api, c.args.map((a) => fromWire(a, c.id)));
      const [value, transfer] = out instanceof Transferring ? [out.value, out.transfer] : [out, []];
      post({ id: c.id, kind: "result", value, status: opts.status?.() }, transfer);
    } catch (e) {
      post({ id: c.id, kind: "error", error: serializeError(e), status: opts.status?.() });
    }
  };
  let chain: Promise<void> = Promise.resolve();
  port.on("message", (c: RpcCall) => {
    chain = chain.then(() => answer(c));
  });
}
