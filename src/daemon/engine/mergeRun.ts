import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { Dataset, copyPixels } from "../../core/data/types";
import { DefenseAdapters, DefenseLambdas, mergeWeights, uniformLambdas } from "../../core/train/merge";
import { disposeLora, ownedLora } from "../../core/model/lora";
import { adaptiveMerge } from "../../core/train/adaptiveMerge";
import { attackSettings } from "../../core/train/build";
import { ParamMap } from "../../core/model/params";
import { CancelSignal, EngineProgress, MergeOutcome } from "../compute/contract";
import { MemoryLimitError, OperationCancelledError } from "../errors";
import { activeBackend } from "../../core/backend/select";
import { mergeProblem } from "../../core/memory/plan";
import { planRun } from "./memoryPlan";
import { HyperatSession } from "./trainSession";
import { writeAdapterFolders, writeMergedFolder } from "./exports";
import { CheckpointRef, MergeObjective, MergeStrategy } from "../../protocol/runs";

/** x/y tensors for the first n samples of a dataset. */
export function datasetTensors(ds: Dataset, n = ds.n): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const m = Math.min(n, ds.n);
  const size = ds.height * ds.width * 3;
  const pixels = new Float32Array(m * size);
  copyPixels(ds.images, 0, m * size, pixels, 0);
  return {
    x: tf.tensor4d(pixels, [m, ds.height, ds.width, 3]),
    y: tf.tensor1d(ds.labels.subarray(0, m), "int32"),
  };
}

/** Parameters of the model a merge produces: backbone + tuned head + combined ΔW (the checked
 * merge of src/core/train/merge.ts), or the tuned weights for full-at. */
async function mergedParams(session: HyperatSession, adapters: DefenseAdapters | undefined, lambdas: DefenseLambdas): Promise<ParamMap> {
  const base = session.trainer.args.tunable.params();
  if (!adapters) return tf.tidy(() => Object.fromEntries(Object.entries(base).map(([k, v]) => [k, tf.clone(v)])));
  return mergeWeights(base, adapters, lambdas);
}

/**
 * Merges the defense-specific LoRAs of a run (at the checkpoint `from` names) into one plain
 * ViT (W0 + ΔW) and writes the timm local-dir merged/<strategy>/ (exports.ts), with the PEFT
 * adapters of the same step in adapters/. λ is returned per defense, one value per block.
 */
export async function mergeRun(
  runDir: string,
  cfg: RunConfig,
  session: HyperatSession,
  strategy: MergeStrategy,
  onProgress: (p: EngineProgress) => void,
  from: CheckpointRef = "latest",
  signal?: CancelSignal,
): Promise<MergeOutcome> {
  // Checked between λ steps (adaptiveMerge disposes its state in `finally`, so throwing from
  // onStep is clean) and once more before the first file is written: a cancel leaves no file.
  const checkCancel = () => {
    if (signal?.aborted) throw new OperationCancelledError(path.basename(runDir), "the merge");
  };
  const names = cfg.defenses.map((d) => d.name);
  const L = session.backbone.vit.depth;
  const tunable = session.trainer.args.tunable;
  onProgress({ title: `${strategy} merge`, message: "generating each defense's LoRA factors", percentage: 0 });
  // The factors, not ΔW: the merge forms each module's ΔW inside its own fold (src/core/train/merge.ts).
  // full-at has no adapters: its merge is the tuned weights themselves.
  const adapters: DefenseAdapters | undefined =
    tunable.method === "full-at" ? undefined : Object.fromEntries(names.map((name, t) => [name, ownedLora(() => tunable.lora(t)!)]));
  const uniform = uniformLambdas(names.length, L);
  let lambdaRecord: DefenseLambdas = Object.fromEntries(names.map((name, t) => [name, uniform[t]]));
  let objective: MergeObjective | undefined;
  try {
    if (strategy === "adaptive" && names.length > 1 && adapters) {
      const micro = await plannedMergeMicroBatch(cfg, session);
      const val = await loadValTensors(session, cfg);
      try {
        lambdaRecord = await adaptiveMerge({
          vit: session.backbone.vit,
          params: tunable.params(),
          adapters,
          x: val.x,
          y: val.y,
          objective: cfg.merge.objective,
          lambdas: cfg.merge.lambdas,
          steps: cfg.merge.steps,
          lr: cfg.merge.lr,
          batchSize: cfg.merge.batchSize,
          microBatchSize: micro,
          attack: { ...attackSettings(cfg), steps: cfg.merge.attackSteps },
          seed: cfg.seed,
          onStep: (s, loss) => {
            objective = { kind: cfg.merge.objective, before: objective?.before ?? loss, after: loss, steps: s };
            onProgress({ title: "adaptive merge", message: `λ step ${s}/${cfg.merge.steps}, loss ${loss.toFixed(3)}`, percentage: (100 * s) / cfg.merge.steps });
            checkCancel();
          },
        });
      } finally {
        tf.dispose([val.x, val.y]);
      }
    }
    checkCancel();
    const params = await mergedParams(session, adapters, lambdaRecord);
    try {
      const modelPath = await writeMergedFolder({
        runDir,
        cfg,
        backbone: session.backbone,
        vit: session.backbone.vit,
        params,
        strategy,
        lambdas: lambdaRecord,
        lambdaSteps: objective?.steps ?? 0,
        ...(objective ? { objective } : {}),
        step: session.step,
        from,
        classNames: session.val.classNames,
      });
      await writeAdapterFolders(runDir, cfg, session.backbone, session.trainer);
      onProgress({ title: `${strategy} merge`, message: `wrote ${path.relative(runDir, path.dirname(modelPath))}/ (step ${session.step}, ${from})`, percentage: 100 });
      return { modelPath, lambdas: lambdaRecord, step: session.step, ...(objective ? { objective } : {}) };
    } finally {
      disposeMerged(params, tunable.params());
    }
  } finally {
    for (const lora of Object.values(adapters ?? {})) disposeLora(lora);
  }
}

/**
 * The λ micro-batch the memory plan picks for this thread's backend (docs/memory.md); a merge
 * that cannot fit even at one image is refused here, before any λ step or file.
 */
async function plannedMergeMicroBatch(cfg: RunConfig, session: HyperatSession): Promise<number> {
  const plan = await planRun(cfg, activeBackend(), session.backbone.vit);
  const problem = mergeProblem(plan);
  const merge = plan.phases.find((p) => p.phase === "merge")!;
  if (problem) throw new MemoryLimitError(merge.bytes, plan.limit.bytes, problem, "");
  return plan.mergeMicroBatch;
}

/** Frees the merged tensors without touching the (shared) backbone ones. */
function disposeMerged(merged: ParamMap, base: ParamMap): void {
  for (const [k, v] of Object.entries(merged)) if (base[k] !== v) v.dispose();
}

async function loadValTensors(session: HyperatSession, cfg: RunConfig): Promise<{ x: tf.Tensor4D; y: tf.Tensor1D }> {
  return datasetTensors(session.val, Math.max(cfg.merge.batchSize, Math.min(session.val.n, 512)));
}
