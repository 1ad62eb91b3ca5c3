import type { ModuleType } from "../model/shapes";
import type { BackendRequest } from "../backend/names";
import type { ValSpec } from "../data/heldOut";

/** How the defense-specific LoRAs become one model (docs/method.md, "Merging"): the plain
 * average of the ΔW, or learned per-layer coefficients. */
export type MergeStrategy = "uniform" | "adaptive";

/** A `*.hyperat.json` after schema validation with every default filled in. */
export interface RunConfig {
  name: string;
  seed: number;
  backend: BackendRequest;
  method: "hyperat" | "lora-at" | "full-at";
  model: {
    preset: string;
    path?: string;
    imgSize: number;
    patchSize?: number;
    numClasses?: number;
    heads?: number;
    mean?: [number, number, number];
    std?: [number, number, number];
    /** Load a `path` checkpoint that holds NaN/Inf weights (research); refused otherwise. */
    allowNonFinite?: boolean;
    pretrain?: { steps: number; lr: number; batchSize: number; cacheDir?: string };
  };
  /** `val` is a data spec or `{ from: "train", n }` (images held out of `train`). */
  data: { train: string; val: ValSpec; test: string; augment: boolean };
  defenses: DefenseConfig[];
  lora: { targets: ModuleType[]; rank: number; alpha: number };
  hypernet: { embedDim: number; hiddenDim: number; latentDim: number };
  attack: { eps: string | number; stepSize: string | number; steps: number };
  optimizer: {
    lr: number;
    weightDecay: number;
    beta1: number;
    beta2: number;
    warmupSteps: number;
    minLrRatio: number;
    gradClip: number;
  };
  training: {
    steps: number;
    batchSize: number;
    /** Images per forward/backward pass; "auto" = the largest the memory plan fits (docs/memory.md). */
    microBatchSize: number | "auto";
    checkpointEvery: number;
    normsEvery: number;
    validateEvery: number;
    validationN: number;
    validationAttack: string;
    workers: "auto" | number;
  };
  merge: {
    strategy: MergeStrategy;
    objective: "adversarial-ce" | "entropy";
    lambdas: "simplex" | "free";
    steps: number;
    lr: number;
    batchSize: number;
    attackSteps: number;
  };
  evaluation: { attacks: string; n: number; batchSize: number };
}

export interface DefenseConfig {
  name: "pgd-at" | "trades" | "mart";
  beta: number;
  weight: number;
}
