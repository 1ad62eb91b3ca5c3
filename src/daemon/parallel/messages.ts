import type { ModelSetup, StepSpec } from "../../core/parallel/shardStep";
import type { BackendRequest } from "../../core/backend/names";

/** Main thread → gradient worker. */
export type ToWorker =
  | { kind: "init"; setup: ModelSetup; backend: BackendRequest; fastPaths: boolean }
  | {
      kind: "step";
      /** Current values of the trainable variables, keyed like `tunable.vars`. */
      vars: Record<string, Float32Array>;
      /** This worker's shard: pixels `[n, H, W, 3]`, labels `[n]`, attack start `[n, H, W, 3]`. */
      x: Float32Array;
      y: Int32Array;
      start: Float32Array;
      n: number;
      spec: StepSpec;
    }
  | { kind: "close" };

/** Gradient worker → main thread. */
export type FromWorker =
  | { kind: "ready"; backend: string }
  | { kind: "grads"; grads: Record<string, Float32Array>; lossSum: number; ms: number }
  | { kind: "error"; message: string };
