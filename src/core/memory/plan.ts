import { ViTConfig } from "../model/config";
import type { MergeStrategy } from "../config/types";
import { moduleDims, paramShapes, ModuleType } from "../model/shapes";
import { LORA_TAPE_FACTOR, largestActivationFloats, lossForwards, tapeFloatsPerImage } from "./activations";
import type { MemoryLimit } from "./limits";

/**
 * The memory plan of a run, from shapes alone (no tensors): peak bytes of every phase with a
 * breakdown, and the micro-batch training uses. The daemon reads the shapes from the
 * safetensors header (src/daemon/engine/memoryPlan.ts) and passes them in; docs/memory.md
 * explains each term.
 */

/** What the plan needs from a config (a subset of RunConfig, so tests can write it by hand). */
export interface PlanConfig {
  method: "hyperat" | "lora-at" | "full-at";
  defenses: string[];
  lora: { targets: readonly ModuleType[]; rank: number };
  hypernet: { embedDim: number; hiddenDim: number; latentDim: number };
  attackSteps: number;
  batchSize: number;
  /** A number, or "auto": the largest that fits (at most batchSize). */
  microBatchSize: number | "auto";
  /** Validation: evaluation.batchSize images per attack batch (validateEvery > 0 or at the end). */
  evalBatchSize: number;
  merge: { strategy: MergeStrategy; batchSize: number };
  /** Presets with model.pretrain only. */
  pretrainBatchSize?: number;
}

export type PhaseName = "train" | "pretrain" | "validation" | "merge" | "evaluation";

/** Bytes by what holds them. */
export interface Breakdown {
  /** The frozen backbone (and head) as loaded. */
  weights: number;
  /** Copies of frozen weights: W0 + ΔW folded for the attack, merged models, full-at's variables. */
  frozenCopies: number;
  /** Trainable tensors (hypernetwork, LoRA factors, head), for full-at counted in frozenCopies. */
  trainable: number;
  /** AdamW's two moments per trainable scalar. */
  optimizer: number;
  /** This micro-batch's gradients, plus the running sum when the batch is accumulated. */
  gradients: number;
  /** What the forward + backward tape keeps (docs/memory.md), for the worst pass of the phase. */
  activations: number;
  /** Images: the batch, its adversarial copy, the attack's perturbation and input gradient. */
  attackBuffers: number;
}

export interface PhasePlan {
  phase: PhaseName;
  /** Images per pass (the micro-batch for training). */
  batch: number;
  bytes: number;
  breakdown: Breakdown;
  /** The config setting that sets `batch`, for messages. */
  setting: string;
}

export interface MemoryPlan {
  vit: ViTConfig;
  microBatch: number;
  /** Activation checkpointing in training and validation: on when it lets a larger micro-batch fit. */
  checkpoint: boolean;
  /** Images per attack batch in periodic validation: evaluation.batchSize, or less where that
   * does not fit (`planAttackBatch`; 1 when none does, and then the run is refused). */
  validationBatch: number;
  /** Images per attack batch of the final evaluation, planned the same way without the trainer
   * (1 when none fits, and then the plan warns). */
  evaluationBatch: number;
  /** Images per λ-gradient and attack pass of the adaptive merge (merge.batchSize, or less
   * where that does not fit: the passes are accumulated, src/core/train/adaptiveMerge.ts). */
  mergeMicroBatch: number;
  /** Micro-batches per optimizer step (ceil(batchSize / microBatch)). */
  accumulation: number;
  phases: PhasePlan[];
  /** The phase with the most bytes. */
  peak: PhasePlan;
  limit: MemoryLimit;
  fits: boolean;
  /** Phases of the training run (pretrain, train, validation) over the limit, with what to
   * change; empty when it fits. A run is refused before it starts when there are any. */
  problems: string[];
  /** Merge and evaluation over the limit: separate commands, so they warn, not refuse. */
  warnings: string[];
  /** The config setting each of `problems` and `warnings` is about, in the same order (e.g.
   * "evaluation.batchSize"): the editor puts each at that JSON path (src/daemon/configCheck.ts). */
  problemSettings: string[];
  warningSettings: string[];
}

const F32 = 4;
const sum = (b: Breakdown) => Object.values(b).reduce((a, v) => a + v, 0);

export function backboneScalars(vit: ViTConfig): number {
  return paramShapes(vit).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
}

/** Scalars of the weights a LoRA adapts (what folding W0 + ΔW copies). */
export function targetScalars(vit: ViTConfig, targets: readonly ModuleType[]): number {
  return vit.depth * targets.reduce((a, m) => a + moduleDims(vit, m).reduce((x, y) => x * y, 1), 0);
}

/** Trainable scalars (as src/core/train/paramCount.ts counts them, from the same shapes). */
export function trainableScalars(vit: ViTConfig, c: PlanConfig): number {
  const head = vit.dim * vit.numClasses + vit.numClasses;
  const r = c.lora.rank;
  if (c.method === "full-at") return backboneScalars(vit);
  if (c.method === "lora-at") return head + factorScalars(vit, c);
  const { embedDim: de, hiddenDim: dh, latentDim: dz } = c.hypernet;
  const embeddings = (c.defenses.length + vit.depth + c.lora.targets.length) * de;
  const mlp = 3 * de * dh + dh + dh * dz + dz + 2 * dz;
  const heads = c.lora.targets.reduce((a, m) => {
    const [din, dout] = moduleDims(vit, m);
    return a + (dz + 1) * din * r + (dz + 1) * r * dout;
  }, 0);
  return embeddings + mlp + heads + head;
}

function imageFloats(vit: ViTConfig): number {
  return vit.imgSize * vit.imgSize * vit.inChans;
}

/** One optimizer step at micro-batch m: the inner attack, then the defense loss's backward. */
export function trainPhase(vit: ViTConfig, c: PlanConfig, m: number, checkpoint = false): PhasePlan {
  const P = trainableScalars(vit, c);
  const adapted = c.method !== "full-at";
  const tape = tapeFloatsPerImage(vit, checkpoint) * m;
  const forwards = Math.max(...c.defenses.map(lossForwards));
  // The attack runs W0 + ΔW folded (one copy of the adapted weights); the loss pass runs the
  // LoRA unfolded, so its tape is larger but no copy is alive. The worse of the two counts.
  const attack = { copies: adapted ? targetScalars(vit, c.lora.targets) : 0, act: c.attackSteps > 0 ? tape : 0 };
  const loss = { copies: 0, act: tape * forwards * (adapted ? LORA_TAPE_FACTOR : 1) };
  const worse = attack.copies + attack.act > loss.copies + loss.act ? attack : loss;
  const accumulated = m < c.batchSize;
  const breakdown: Breakdown = {
    weights: F32 * backboneScalars(vit),
    frozenCopies: F32 * (worse.copies + (adapted ? 0 : P)),
    trainable: F32 * (adapted ? P : 0),
    optimizer: F32 * 2 * P,
    gradients: F32 * P * (accumulated ? 2 : 1),
    activations: F32 * worse.act,
    // The whole batch and its adversarial copy, plus the micro-batch's start, perturbation, gradient.
    attackBuffers: F32 * imageFloats(vit) * (2 * c.batchSize + 3 * m),
  };
  return { phase: "train", batch: m, bytes: sum(breakdown), breakdown, setting: "training.microBatchSize" };
}

/**
 * An attack batch against a folded or merged model (validation, evaluation): input gradients
 * only. `c` undefined: a stand-alone model file (`hyperat eval`), nothing besides its weights.
 */
function attackPhase(vit: ViTConfig, c: PlanConfig | undefined, phase: "validation" | "evaluation", batch: number, keepsTrainer: boolean, checkpoint = false): PhasePlan {
  const P = c ? trainableScalars(vit, c) : 0;
  const copies = !c ? 0 : c.method === "full-at" ? (keepsTrainer ? P : 0) : targetScalars(vit, c.lora.targets);
  const breakdown: Breakdown = {
    weights: F32 * backboneScalars(vit),
    frozenCopies: F32 * copies,
    trainable: F32 * (keepsTrainer && c?.method !== "full-at" ? P : 0),
    optimizer: F32 * (keepsTrainer ? 2 * P : 0),
    gradients: 0,
    activations: F32 * tapeFloatsPerImage(vit, checkpoint) * batch,
    attackBuffers: F32 * imageFloats(vit) * 4 * batch,
  };
  return { phase, batch, bytes: sum(breakdown), breakdown, setting: "evaluation.batchSize" };
}

/** Held-out images a merge loads at most beyond merge.batchSize (loadValTensors, src/daemon/engine/mergeRun.ts). */
const MERGE_VAL_IMAGES = 512;

/** Scalars of one adapter's LoRA factors: r·(d_in + d_out) per adapted module. */
function factorScalars(vit: ViTConfig, c: PlanConfig): number {
  return vit.depth * c.lora.targets.reduce((a, m) => a + c.lora.rank * moduleDims(vit, m).reduce((x, y) => x + y, 0), 0);
}

/**
 * Merging at λ micro-batch m (src/core/train/merge.ts, adaptiveMerge.ts). The merge holds each
 * defense's LoRA factors, never K materialized ΔW, and forms one merged copy of the adapted
 * weights (N_t) module by module; the scaled terms of one module (K + 1 of its size) are alive
 * besides. Adaptive adds the λ pass: its tape keeps that merged copy (the forward's matMuls save
 * it), one micro-batch's activations and, in the backward, the gradient dW of every merged weight
 * (N_t again: tfjs frees no gradient before the backward ends). The fold itself keeps nothing on
 * the tape (one custom-gradient op per module). The PGD pass folds its own copy, off the tape and
 * freed before the λ pass, so it is the same N_t. The session that merges keeps its trainer:
 * trainable tensors and AdamW moments.
 */
export function mergePhase(vit: ViTConfig, c: PlanConfig, m: number): PhasePlan {
  const K = c.defenses.length;
  const Nt = targetScalars(vit, c.lora.targets);
  const P = trainableScalars(vit, c);
  const adapted = c.method !== "full-at";
  const adaptive = isAdaptiveMerge(c);
  const module = Math.max(...c.lora.targets.map((t) => moduleDims(vit, t).reduce((x, y) => x * y, 1)));
  const batch = adaptive ? Math.min(m, c.merge.batchSize) : 0;
  const breakdown: Breakdown = {
    weights: F32 * backboneScalars(vit),
    // full-at: its tuned variables are the merged model.
    frozenCopies: F32 * (adapted ? Nt + (K + 1) * module : P),
    trainable: F32 * (adapted ? P + K * factorScalars(vit, c) : 0),
    optimizer: F32 * 2 * P,
    gradients: F32 * (adaptive ? Nt : 0),
    activations: F32 * tapeFloatsPerImage(vit) * batch,
    // The held-out images the merge loads (up to 512, src/daemon/engine/mergeRun.ts), the λ batch
    // and its adversarial copy, plus the micro-batch's start, perturbation, gradient.
    attackBuffers: adaptive ? F32 * imageFloats(vit) * (Math.max(MERGE_VAL_IMAGES, c.merge.batchSize) + 2 * c.merge.batchSize + 3 * batch) : 0,
  };
  return { phase: "merge", batch, bytes: sum(breakdown), breakdown, setting: "the merge micro-batch" };
}

function isAdaptiveMerge(c: PlanConfig): boolean {
  return c.merge.strategy === "adaptive" && c.defenses.length > 1 && c.method !== "full-at";
}

/**
 * The merge's λ micro-batch: the largest that fits, up to merge.batchSize (1 when none does, and
 * then the merge phase is over the limit and the merge is refused, `mergeProblem`).
 */
export function chooseMergeMicroBatch(vit: ViTConfig, c: PlanConfig, limit: MemoryLimit): number {
  if (!isAdaptiveMerge(c)) return c.merge.batchSize;
  return largestFitting(c.merge.batchSize, (m) => mergePhase(vit, c, m).bytes <= limit.bytes && (limit.maxTensorBytes === undefined || largestTensorBytes(vit, m) <= limit.maxTensorBytes));
}

/**
 * Why the planned merge cannot run (the estimate, the limit and what to change), or undefined
 * when it fits. The merge command refuses with this before it starts (src/daemon/engine/mergeRun.ts).
 */
export function mergeProblem(plan: MemoryPlan): string | undefined {
  const p = plan.phases.find((x) => x.phase === "merge");
  return p && p.bytes > plan.limit.bytes ? mergeOverLimit(p, plan.limit) : undefined;
}

function mergeOverLimit(p: PhasePlan, limit: MemoryLimit): string {
  const fixed = p.bytes - p.breakdown.activations - p.breakdown.attackBuffers;
  const what = p.batch > 0 ? `merge at λ micro-batch ${p.batch} needs ${gib(p.bytes)}: even one image does not fit (${gib(fixed)} before any image)` : `merge needs ${gib(p.bytes)}`;
  return `${what}, over the limit of ${gib(limit.bytes)} (${limit.source}); merge with strategy "uniform" (no λ pass), use fewer defenses or LoRA targets, a smaller model or another backend`;
}

/** Clean pretraining of a preset: every weight trains (full gradients and moments). */
function pretrainPhase(vit: ViTConfig, batch: number): PhasePlan {
  const N = backboneScalars(vit);
  const breakdown: Breakdown = {
    weights: F32 * N,
    frozenCopies: F32 * N, // the variables pretraining updates, beside the init tensors
    trainable: 0,
    optimizer: F32 * 2 * N,
    gradients: F32 * N,
    activations: F32 * tapeFloatsPerImage(vit) * batch,
    attackBuffers: F32 * imageFloats(vit) * batch,
  };
  return { phase: "pretrain", batch, bytes: sum(breakdown), breakdown, setting: "model.pretrain.batchSize" };
}

/** The largest single tensor of the run (bytes): a weight matrix or one activation at `batch`. */
export function largestTensorBytes(vit: ViTConfig, batch: number): number {
  const weight = Math.max(...paramShapes(vit).map(([, s]) => s.reduce((x, y) => x * y, 1)));
  return F32 * Math.max(weight, largestActivationFloats(vit) * batch);
}

function fitsAt(vit: ViTConfig, c: PlanConfig, m: number, limit: MemoryLimit, checkpoint: boolean): boolean {
  return trainPhase(vit, c, m, checkpoint).bytes <= limit.bytes && (limit.maxTensorBytes === undefined || largestTensorBytes(vit, m) <= limit.maxTensorBytes);
}

/** The micro-batch: the configured one, or the largest that fits (≥ 1 even when none does). */
export function chooseMicroBatch(vit: ViTConfig, c: PlanConfig, limit: MemoryLimit, checkpoint = false): number {
  if (c.microBatchSize !== "auto") return Math.min(c.microBatchSize, c.batchSize);
  return largestFitting(c.batchSize, (m) => fitsAt(vit, c, m, limit, checkpoint));
}

export interface AttackBatchPlan {
  /** Images per attack batch: the requested number, or the largest smaller one that fits; 0 when not even one image fits. */
  batch: number;
  /** The phase at the requested batch (its estimate, for messages). */
  requested: PhasePlan;
  /** The phase at `batch` (at 1 when `batch` is 0). */
  planned: PhasePlan;
}

/**
 * The attack batch of validation or of the final evaluation: as asked, or planned down to the
 * largest that fits `limit` (and the device's largest buffer). Results do not depend on it:
 * each sample's random draws have their own stream (src/core/attacks/attackRng.ts,
 * test/core/evaluate/batchIndependence.test.ts), so planning down changes only the time.
 * Validation keeps the trainer alive (`keepsTrainer`); `c` undefined plans a stand-alone model.
 */
export function planAttackBatch(vit: ViTConfig, c: PlanConfig | undefined, requested: number, limit: MemoryLimit, phase: "validation" | "evaluation", keepsTrainer = false, checkpoint = false): AttackBatchPlan {
  const at = (b: number) => attackPhase(vit, c, phase, b, keepsTrainer, checkpoint);
  const fits = (b: number) => at(b).bytes <= limit.bytes && (limit.maxTensorBytes === undefined || largestTensorBytes(vit, b) <= limit.maxTensorBytes);
  const batch = fits(1) ? largestFitting(requested, fits) : 0;
  return { batch, requested: at(requested), planned: at(Math.max(batch, 1)) };
}

/** The largest b in [1, max] with fits(b) (bytes grow with b), or 1 when none fits. */
function largestFitting(max: number, fits: (b: number) => boolean): number {
  let lo = 1;
  let hi = max;
  if (!fits(1)) return 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/**
 * Checkpointing costs one more forward per backward (~1/3 more compute), so it is used only
 * when the whole batch does not fit as one pass without it and it lets a larger micro-batch (or
 * any at all) fit. A configured micro-batch turns it on when that micro-batch needs it.
 */
function chooseCheckpoint(vit: ViTConfig, c: PlanConfig, limit: MemoryLimit): boolean {
  const target = c.microBatchSize === "auto" ? c.batchSize : Math.min(c.microBatchSize, c.batchSize);
  if (fitsAt(vit, c, target, limit, false)) return false;
  if (c.microBatchSize !== "auto") return true;
  return chooseMicroBatch(vit, c, limit, true) > chooseMicroBatch(vit, c, limit, false) || !fitsAt(vit, c, 1, limit, false);
}

export function planMemory(vit: ViTConfig, c: PlanConfig, limit: MemoryLimit): MemoryPlan {
  const checkpoint = chooseCheckpoint(vit, c, limit);
  const microBatch = chooseMicroBatch(vit, c, limit, checkpoint);
  const validation = planAttackBatch(vit, c, c.evalBatchSize, limit, "validation", true, checkpoint);
  const validationBatch = Math.max(validation.batch, 1);
  const run = [trainPhase(vit, c, microBatch, checkpoint), validation.planned];
  if (c.pretrainBatchSize) run.unshift(pretrainPhase(vit, c.pretrainBatchSize));
  const mergeMicroBatch = chooseMergeMicroBatch(vit, c, limit);
  // The final evaluation plans its batch down as validation does: it warns only when one image does not fit.
  const evaluation = planAttackBatch(vit, c, c.evalBatchSize, limit, "evaluation");
  const later = [mergePhase(vit, c, mergeMicroBatch), evaluation.planned];
  const phases = [...run, ...later];
  const peak = run.reduce((a, p) => (p.bytes > a.bytes ? p : a));
  const overs = (ps: PhasePlan[]) => ps.filter((p) => p.bytes > limit.bytes);
  const say = (p: PhasePlan) => `${p.phase} at ${p.setting} ${p.batch} needs ${gib(p.bytes)}: ${advice(vit, c, p, limit)}`;
  const problems = overs(run).map(say);
  const problemSettings = overs(run).map((p) => p.setting);
  // The merge picks its own micro-batch, so only a merge that cannot fit at 1 warns.
  const mergeOvers = later.filter((p) => p.phase === "merge" && p.bytes > limit.bytes);
  const otherOvers = overs(later.filter((p) => p.phase !== "merge"));
  const warnings = [...mergeOvers.map((p) => mergeOverLimit(p, limit)), ...otherOvers.map(say)];
  const warningSettings = [...mergeOvers, ...otherOvers].map((p) => p.setting);
  if (limit.maxTensorBytes !== undefined && largestTensorBytes(vit, microBatch) > limit.maxTensorBytes) {
    problems.push(`one tensor of ${gib(largestTensorBytes(vit, microBatch))} at micro-batch ${microBatch} is over the device's largest buffer (${gib(limit.maxTensorBytes)}): lower training.microBatchSize`);
    problemSettings.push("training.microBatchSize");
  }
  return { vit, microBatch, checkpoint, validationBatch, evaluationBatch: Math.max(evaluation.batch, 1), mergeMicroBatch, accumulation: Math.ceil(c.batchSize / microBatch), phases, peak, limit, fits: problems.length === 0, problems, warnings, problemSettings, warningSettings };
}

/** What to change so phase `p` fits: a smaller batch for it when one would, else the model. */
function advice(vit: ViTConfig, c: PlanConfig, p: PhasePlan, limit: MemoryLimit): string {
  const perImage = p.batch > 0 ? (p.bytes - fixedBytes(vit, c, p)) / p.batch : 0;
  const room = limit.bytes - fixedBytes(vit, c, p);
  const fits = perImage > 0 ? Math.floor(room / perImage) : 0;
  if (p.phase === "train" && c.microBatchSize !== "auto" && fits >= 1) return `set training.microBatchSize to ${fits} or less (or "auto")`;
  if (p.phase !== "train" && fits >= 1) return `set ${p.setting} to ${fits} or less`;
  return `even one image does not fit (${gib(fixedBytes(vit, c, p))} before any image): use a smaller model, a smaller image size, fewer LoRA targets or another backend`;
}

/** The part of a phase that does not scale with its batch. */
function fixedBytes(vit: ViTConfig, c: PlanConfig, p: PhasePlan): number {
  const b = p.breakdown;
  const batchImages = p.phase === "train" ? F32 * imageFloats(vit) * 2 * c.batchSize : 0;
  return b.weights + b.frozenCopies + b.trainable + b.optimizer + b.gradients + batchImages;
}

/** One line per phase, for `hyperat check`, logs and the refusal message. */
export function describePlan(plan: MemoryPlan): string[] {
  const lines = [
    `memory plan on ${plan.limit.backend}: limit ${gib(plan.limit.bytes)} (${plan.limit.source}); micro-batch ${plan.microBatch} × ${plan.accumulation}${plan.checkpoint ? ", activation checkpointing" : ""}`,
  ];
  for (const p of plan.phases) {
    const parts = Object.entries(p.breakdown).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${gib(v)}`);
    lines.push(`  ${p.phase} (batch ${p.batch}): ${gib(p.bytes)} = ${parts.join(" + ")}`);
  }
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  return lines;
}
