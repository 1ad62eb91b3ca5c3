import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "../model/config";
import { initParams, ParamMap } from "../model/params";
import { ModuleType } from "../model/params";
import { forward } from "../model/vit";
import type { LoraSet } from "../model/lora";
import { FullTunable, HyperatTunable, LoraTunable, Tunable } from "../train/tunable";
import { crossEntropy } from "../attacks/losses";
import { signedGradientAscent } from "../attacks/ascent";

/**
 * One data-parallel training step, split so every shard of the batch is computed independently:
 * the attack (PGD examples are per-sample: the model is frozen while they are found) and the
 * gradient of the *summed* loss over the shard. Summing shard gradients and dividing by the
 * batch size gives exactly the single-worker mean-loss gradient, up to float reassociation.
 * Pure tfjs, so it runs the same in the main thread and in a worker_threads worker.
 */

export type StepMethod = "full-at" | "lora-at" | "hyperat";

/** What a worker needs to rebuild the same trainable model as the main thread (same seeds). */
export interface ModelSetup {
  vit: ViTConfig;
  method: StepMethod;
  /** Seed of the backbone init (stands in for pretrained weights in benchmarks). */
  seed: number;
  lora: { rank: number; alpha: number; targets: readonly ModuleType[] };
  /** Hypernetwork sizes (HYPERAT.md defaults) and number of defenses K. */
  hypernet: { numDefenses: number; embedDim: number; hiddenDim: number; latentDim: number };
}

export interface StepSpec {
  /** PGD iterations before the update (0: a clean step). PGD-AT: L-inf, keep the last iterate. */
  pgdSteps: number;
  eps: number;
  stepSize: number;
  /** Defense index whose LoRA the hypernetwork generates this step (hyperat only). */
  defense: number;
}

export interface TrainModel {
  setup: ModelSetup;
  backbone: ParamMap;
  tunable: Tunable;
}

export function buildModel(setup: ModelSetup): TrainModel {
  const backbone = initParams(setup.vit, setup.seed);
  let tunable: Tunable;
  if (setup.method === "full-at") tunable = new FullTunable(backbone);
  else if (setup.method === "lora-at") tunable = new LoraTunable(backbone, setup.vit, setup.lora, setup.seed + 1);
  else tunable = new HyperatTunable(backbone, setup.vit, { ...setup.lora, ...setup.hypernet }, setup.seed + 2);
  return { setup, backbone, tunable };
}

export function disposeModel(m: TrainModel): void {
  m.tunable.dispose();
  // full-at copies the backbone into variables; the init tensors are ours to free in every case.
  for (const t of Object.values(m.backbone)) t.dispose();
}

/**
 * PGD-AT's inner maximization (Madry et al. 2018) from a given start (the caller draws the
 * random start for the whole batch, so sharding does not change it): `steps` signed-gradient
 * steps on the summed CE, each projected to B_eps(x) ∩ [0,1]. Only input gradients are taken.
 */
export function pgdFromStart(model: TrainModel, x: tf.Tensor4D, y: tf.Tensor1D, start: tf.Tensor4D, spec: StepSpec): tf.Tensor4D {
  const { vit } = model.setup;
  // The adapter is fixed during the attack: generate it once (the hypernetwork's forward is a
  // fixed cost per call that would otherwise be paid every PGD iteration).
  const lora = tf.tidy(() => model.tunable.lora(spec.defense) as unknown as tf.TensorContainer) as unknown as LoraSet | undefined;
  const params = model.tunable.params();
  const classify = (xi: tf.Tensor4D) => forward(vit, params, xi, { lora });
  const xa = signedGradientAscent(classify, x, y, start, crossEntropy, { eps: spec.eps, stepSize: spec.stepSize, steps: spec.pgdSteps });
  // Generated factors are ours to free; LoRA-AT's factors are its variables and stay.
  for (const f of Object.values(lora?.factors ?? {})) for (const t of [f.a, f.b]) if (!(t instanceof tf.Variable)) t.dispose();
  return xa;
}

export interface ShardResult {
  /** Gradients of the summed (not mean) loss over the shard, keyed like `tunable.vars`. */
  grads: Record<string, tf.Tensor>;
  lossSum: number;
}

/** Attack (if `spec.pgdSteps` > 0) then gradients of Σ CE over this shard w.r.t. every variable. */
export function shardGradients(model: TrainModel, x: tf.Tensor4D, y: tf.Tensor1D, start: tf.Tensor4D, spec: StepSpec): ShardResult {
  // Helper threads run cpu/wasm only (GPU backends get no helpers), where a synchronous read is fine.
  const { grads, lossSumT } = shardGradientsTensors(model, x, y, start, spec);
  const lossSum = lossSumT.dataSync()[0];
  lossSumT.dispose();
  return { grads, lossSum };
}

/** shardGradients with the loss left on the device, for the main thread (webgpu reads only asynchronously). */
export function shardGradientsTensors(model: TrainModel, x: tf.Tensor4D, y: tf.Tensor1D, start: tf.Tensor4D, spec: StepSpec): { grads: Record<string, tf.Tensor>; lossSumT: tf.Scalar } {
  const { vit } = model.setup;
  const xa = spec.pgdSteps > 0 ? pgdFromStart(model, x, y, start, spec) : x;
  const names = Object.keys(model.tunable.vars);
  const vars = names.map((n) => model.tunable.vars[n]);
  const { value, grads: byVarName } = tf.variableGrads(
    () => tf.sum(crossEntropy(forward(vit, model.tunable.params(), xa, { lora: model.tunable.lora(spec.defense) }), y)) as tf.Scalar,
    vars,
  );
  if (xa !== x) xa.dispose();
  // variableGrads keys by tf.Variable.name; callers (optimizer, workers) use our stable names.
  const grads: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => {
    const g = byVarName[vars[i].name];
    if (g) grads[n] = g; // a variable the loss does not reach (another defense's row) gets none
  });
  return { grads, lossSumT: value };
}
