import type { ViTConfig } from "../../core/model/config";

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
