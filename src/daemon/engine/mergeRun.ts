import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { readScalar } from "../../core/tensorRead";
import { RunConfig } from "../../core/config/types";
import { Dataset, copyPixels } from "../../core/data/types";
import { adapterDeltas, adaptiveMerge, Deltas, uniformLambdas } from "../../core/train/merge";
import { foldDeltas } from "../../core/train/fold";
import { attackSettings } from "../../core/train/build";
import { ParamMap } from "../../core/model/params";
import { CancelSignal, EngineProgress, MergeOutcome } from "../compute/contract";
import { OperationCancelledError } from "../errors";
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

/** Parameters of the model a merge produces: backbone + tuned head + combined ΔW (or the tuned weights for full-at). */
function mergedParams(session: HyperatSession, perDefense: Deltas[], lambdas: number[][]): ParamMap {
  const base = session.trainer.args.tunable.params();
  if (perDefense.length === 0) return tf.tidy(() => Object.fromEntries(Object.entries(base).map(([k, v]) => [k, tf.clone(v)])));
  return foldDeltas(base, perDefense, lambdas); // module by module (docs/memory.md)
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
  const K = cfg.defenses.length;
  const L = session.backbone.vit.depth;
  const tunable = session.trainer.args.tunable;
  onProgress({ title: `${strategy} merge`, message: "materializing ΔW per defense", percentage: 0 });
  const perDefense: Deltas[] = tunable.method === "full-at" ? [] : cfg.defenses.map((_, t) => tf.tidy(() => adapterDeltas(tunable.lora(t)!)));
  try {
    for (const [t, d] of perDefense.entries()) await assertFinite(d, `defense "${cfg.defenses[t].name}": ΔW`);
  } catch (e) {
    for (const d of perDefense) tf.dispose(Object.values(d));
    throw e;
  }
  let lambdas = uniformLambdas(K, L);
  let objective: MergeObjective | undefined;
  try {
    if (strategy === "adaptive" && K > 1 && perDefense.length > 0) {
      const val = await loadValTensors(session, cfg);
      try {
        lambdas = await adaptiveMerge({
          vit: session.backbone.vit,
          params: tunable.params(),
          perDefense,
          x: val.x,
          y: val.y,
          objective: cfg.merge.objective,
          lambdas: cfg.merge.lambdas,
          steps: cfg.merge.steps,
          lr: cfg.merge.lr,
          batchSize: cfg.merge.batchSize,
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
    const params = mergedParams(session, perDefense, lambdas);
    try {
      await assertFinite(params, `${strategy} merge: merged weight`);
    } catch (e) {
      disposeMerged(params, tunable.params());
      throw e;
    }
    const lambdaRecord = Object.fromEntries(cfg.defenses.map((d, t) => [d.name, lambdas[t]]));
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
    for (const d of perDefense) tf.dispose(Object.values(d));
  }
}

/** Throws naming the first tensor with a NaN or infinite entry (PEFT checks merges the same way). */
export async function assertFinite(tensors: Record<string, tf.Tensor>, what: string): Promise<void> {
  for (const [name, t] of Object.entries(tensors)) {
    const ok = (await readScalar(tf.tidy(() => tf.all(tf.isFinite(t))))) === 1;
    if (!ok) throw new Error(`${what} "${name}" is not finite; the adapter diverged — resume from an earlier checkpoint or lower the learning rate`);
  }
}

/** Frees the merged tensors without touching the (shared) backbone ones. */
function disposeMerged(merged: ParamMap, base: ParamMap): void {
  for (const [k, v] of Object.entries(merged)) if (base[k] !== v) v.dispose();
}

async function loadValTensors(session: HyperatSession, cfg: RunConfig): Promise<{ x: tf.Tensor4D; y: tf.Tensor1D }> {
  return datasetTensors(session.val, Math.max(cfg.merge.batchSize, Math.min(session.val.n, 512)));
}
