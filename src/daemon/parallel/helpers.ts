// Helper threads for data parallelism: one worker_threads Worker each (own tfjs + wasm
// instance), running gradWorker.ts, answering one reply per request.
import * as tf from "@tensorflow/tfjs";
import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./messages";
import { workerScript } from "../compute/workerScript";
import { shareBlasThreads } from "../../core/backend/wasm/blasMatMul";

/** The bundle next to dist/cli.js, or the .ts source through tsx (tests, dev). */
function workerEntry(): { script: string; eval: boolean } {
  return workerScript(__dirname, __filename, "gradWorker.ts", "parallelWorker.js");
}

export class Helper {
  private waiting?: { resolve: (m: FromWorker) => void; reject: (e: Error) => void };
  private failure?: Error;

  constructor(private readonly worker: Worker) {
    worker.on("message", (m: FromWorker) => this.settle(m));
    worker.on("error", (e) => this.fail(new Error(`gradient worker crashed: ${e.message}`)));
    worker.on("exit", (code) => this.fail(new Error(`gradient worker exited with code ${code}`)));
  }

  private settle(m: FromWorker): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (!w) return;
    if (m.kind === "error") w.reject(new Error(`gradient worker: ${m.message}`));
    else w.resolve(m);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.waiting?.reject(e);
    this.waiting = undefined;
  }

  /** Sends one request and resolves with the worker's single reply to it. */
  call(m: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      try {
        this.worker.postMessage(m, transfer);
      } catch (e) {
        this.waiting = undefined;
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  /** Terminates the thread; later calls reject instead of waiting for a reply forever. */
  async close(): Promise<void> {
    this.failure ??= new Error("gradient worker was closed");
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
    shareBlasThreads(1); // workers set the process's BLAS to one thread each; the main thread is alone again
  }
}

/** Starts `n` helper threads (not yet initialized). */
export function spawnHelpers(n: number): Helper[] {
  const entry = workerEntry();
  return Array.from({ length: n }, () => {
    // stdout: true keeps worker chatter (tfjs' banner) off our stdout, which may carry JSON.
    const w = new Worker(entry.script, { eval: entry.eval, stdout: true });
    w.stdout.pipe(process.stderr);
    return new Helper(w);
  });
}

/**
 * Samples [offset, offset + n) of a batch as own buffers: on the cpu backend dataSync can return
 * a view of a shared buffer, which must not be transferred (detached) away from its tensor.
 */
export function shardData(x: tf.Tensor4D, y: tf.Tensor1D, offset: number, n: number): { x: Float32Array; y: Int32Array } {
  return tf.tidy(() => ({
    x: new Float32Array(tf.slice(x, [offset, 0, 0, 0], [n, -1, -1, -1]).dataSync()),
    y: new Int32Array(tf.slice(y, [offset], [n]).dataSync()),
  }));
}

/**
 * Computes the main thread's shard while the helpers compute theirs (`pending`), then collects
 * their replies. If our shard throws we still wait for the helpers, so no late reply can answer a
 * later request; if a helper fails, our gradients are freed.
 */
export async function ownShardAndReplies<T extends { grads: Record<string, tf.Tensor> }>(
  pending: Promise<FromWorker>[],
  computeOwn: () => T | Promise<T>,
): Promise<{ own: T; replies: FromWorker[] }> {
  let own: T;
  try {
    own = await computeOwn();
  } catch (e) {
    await Promise.allSettled(pending);
    throw e;
  }
  try {
    return { own, replies: await Promise.all(pending) };
  } catch (e) {
    tf.dispose(Object.values(own.grads));
    throw e;
  }
}

type GradReply = Extract<FromWorker, { grads: Record<string, Float32Array> }>;

/**
 * Our shard's gradients plus every helper's, per variable (each shard's loss is already weighted
 * by its share of the batch). Each reply must be `kind` and carry every gradient. Frees ours.
 */
export function sumShardGradients<K extends GradReply["kind"]>(
  own: Record<string, tf.Tensor>,
  replies: FromWorker[],
  kind: K,
): { grads: Record<string, tf.Tensor>; replies: Extract<FromWorker, { kind: K }>[] } {
  const typed = replies.map((r) => {
    if (r.kind !== kind) throw new Error(`gradient worker answered "${r.kind}" to a ${kind} request`);
    return r as Extract<FromWorker, { kind: K }>;
  });
  const grads = tf.tidy(() => {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(own)) {
      const parts = [g];
      for (const r of typed) {
        const data = (r as GradReply).grads[name];
        if (!data) throw new Error(`gradient worker sent no gradient for "${name}"`);
        parts.push(tf.tensor(data, g.shape));
      }
      out[name] = parts.length > 1 ? tf.addN(parts) : tf.clone(g);
    }
    return out;
  });
  tf.dispose(Object.values(own));
  return { grads, replies: typed };
}
