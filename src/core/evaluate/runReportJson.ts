// A run's report.json: what an engine's evaluation returns and writes (src/daemon/compute/contract.ts),
// what the daemon records from it (src/daemon/report.ts) and what `hyperat/run.evaluate` answers
// (src/protocol/methods.ts). Types only, so the protocol can import them.
import type { BackendInfo } from "../backend/select";
import type { EvalResult } from "./evaluator";

/** One model of a run, named by what it holds ("Evaluate This Model", issue 16 item 5); the
 * protocol's helpers for it are src/protocol/modelSelector.ts. */
export type ModelSelector =
  /** The backbone the run tuned (the report's "pretrained" row). */
  | { kind: "base" }
  /** One defense's LoRA on the backbone: adapters/<defense>/ (PEFT layout). */
  | { kind: "adapter"; defense: string }
  /** A merge of the run: merged/<strategy>/ (timm local dir) or an older run's merged/model-<strategy>.safetensors. */
  | { kind: "merged"; strategy: string };

/** One evaluated model, as every run report lists it; the daemon records one EvaluationRecord per row. */
export interface ModelScore {
  /** Display name: pretrained, hyperat-lora-<defense>, hyperat-uniform, hyperat-adaptive, lora-at-<defense>, full-at. */
  name: string;
  /** The dashboard's key: "pretrained", a defense name, "uniform", "adaptive". */
  target: string;
  /** The training step whose LoRAs were evaluated. */
  step: number;
  cleanAccuracy: number;
  /** Cumulative robust accuracy after each attack of the suite. */
  robustAccuracy: Record<string, number>;
  worstCaseRobustAccuracy: number;
}

/**
 * report.json as the daemon and its clients read it: one row per model. The other fields are the
 * engine's own (the HyperAT engine's are RunReport's; a test engine writes fewer).
 */
export interface EvaluationReport {
  models: ModelScore[];
  [field: string]: unknown;
}

/** One evaluated model of a HyperAT run (report.json `models`). */
export interface ModelEvaluation extends ModelScore {
  /** Scalars the method trained to produce this model (the pretrained model: its whole backbone). */
  trainableParams: number;
  /** Seconds the evaluation of this model took. */
  seconds: number;
  checkpoint?: string;
  warnings: string[];
  result: EvalResult;
}

/** The HyperAT engine's report.json (src/daemon/engine/evaluateRun.ts writes it). */
export interface RunReport extends EvaluationReport {
  format: "hyperat-run-report";
  version: 1;
  generatedAt: string;
  /** The run's config name. */
  run: string;
  method: string;
  defenses: string[];
  step: number;
  /** The checkpoint the LoRAs were evaluated at ("latest", "best", "step-N"). */
  from: string;
  /** The test data spec. */
  data: string;
  threatModel: { norm: "Linf"; eps: string };
  /** The suite as asked ("quick", "standard", or a list). */
  suite: string;
  /** The suite's attacks, in run order. */
  attacks: string[];
  /** What the suite can claim, when it is only a preview. */
  note?: string;
  backend?: string;
  /** The backend in words (src/core/backend/select.ts describeBackend). */
  compute?: string;
  device?: Pick<BackendInfo, "gpu" | "gpuDeviceInUse">;
  /** Images per attack batch as run: evaluation.batchSize, or less where that did not fit (src/core/evaluate/batchMemory.ts). */
  attackBatchSize?: number;
  /** What memory planning changed (a smaller attack batch, fewer pool workers), in words. */
  memoryNotes?: string[];
  models: ModelEvaluation[];
  /** Set when the report is of one model only ("Evaluate This Model", reports/<model>-<time>/). */
  model?: ModelSelector;
}
