import type { BackendRequest } from "../../core/backend/names";
import type { ViTConfig } from "../../core/model/config";
import type { EvalData, EvalResult } from "../../core/evaluate/evaluator";

/** One model evaluation, self-contained so a worker thread can run it (plain data only). */
export interface EvalJob {
  vit: ViTConfig;
  /** Engine-layout parameters. */
  params: Record<string, { shape: number[]; data: Float32Array }>;
  attacks: string[];
  eps: string | number;
  seed: number;
  batchSize: number;
  n: number;
  /** Samples whose adversarial images come back (examples.safetensors); default none. */
  examples?: number;
}

export type ToEvalWorker =
  | {
      kind: "init";
      backend: BackendRequest;
      fastPaths: boolean;
      data: EvalData;
      /** A CancelFlag's word: raised (to 1) when the evaluation is cancelled. */
      cancel: SharedArrayBuffer;
    }
  | { kind: "run"; id: number; job: EvalJob };

export type FromEvalWorker =
  | { kind: "ready" }
  | { kind: "progress"; id: number; attack: string; done: number; total: number; message: string }
  | { kind: "result"; id: number; result: EvalResult }
  | { kind: "error"; id?: number; message: string; cancelled?: boolean };
