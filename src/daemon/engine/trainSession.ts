import * as os from "node:os";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { disposeParams } from "../../core/model/params";
import { Dataset } from "../../core/data/types";
import { Batcher } from "../../core/data/batcher";
import { Trainer, TrainerState } from "../../core/train/trainer";
import { buildTrainer } from "../../core/train/build";
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from "../../core/io/files";
import { TrainEvent, TrainSession } from "../compute/contract";
import { Backbone } from "./backbone";
import { measureBaseModel, validateDuringTraining } from "./periodicValidation";
import { writeAdapterFolders } from "./exports";
import { activeBackend } from "../../core/backend/select";
import { planRun } from "./memoryPlan";
import { workersThatFit } from "../../core/memory/workersThatFit";
import { resolveWorkers } from "../parallel/workerCount";
import { TrainerWorkers } from "../parallel/trainerParallel";
import { BestRecord, CheckpointRef, EvaluationRecord } from "../../protocol/runs";
import { nextBest, selectionTarget } from "../best";
import { BEST_DIR, CheckpointFiles, newestIn, pruneCheckpoints, readBestRecord, resolveCheckpoint } from "./checkpointFiles";

/** JSON half of a checkpoint; the tensors are in the .safetensors file of the same name. */
interface CheckpointJson {
  format: "hyperat-checkpoint";
  version: 1;
  step: number;
  trainer: TrainerState;
  batcher: unknown;
  method: string;
  defenses: string[];
  /** checkpoints/best/ only: the validation record it was chosen by. */
  best?: BestRecord;
}

/** The newest complete checkpoint of a run (checkpoints/step-N; the best's folder aside). */
export async function latestCheckpoint(runDir: string): Promise<CheckpointFiles | undefined> {
  return newestIn(path.join(runDir, "checkpoints"));
}

/**
 * A run's training state in memory: backbone, trainer, batcher. Steps are synchronous tensor
 * work; the daemon runs sessions in a worker thread so its event loop stays responsive.
 */
export class HyperatSession implements TrainSession {
  /** Helper threads when `training.workers` > 1; started by the first step (merge/evaluate never step). */
  private parallel?: Promise<TrainerWorkers>;
  /** Events measured while opening (the base model's accuracy), emitted with the first step. */
  private pending: TrainEvent[] = [];

  private constructor(
    private readonly runDir: string,
    private readonly cfg: RunConfig,
    readonly backbone: Backbone,
    readonly trainer: Trainer,
    private readonly batcher: Batcher,
    readonly val: Dataset,
    /** Images per forward/backward pass (training.microBatchSize, "auto" resolved by the plan). */
    readonly microBatch: number,
    /** Images per validation attack batch (evaluation.batchSize, or less where it does not fit). */
    private readonly validationBatch: number,
    /** The plan's training-phase bytes: what each data-parallel worker holds. */
    private readonly trainBytes: number,
  ) {}

  /** `resume` restores a checkpoint: `from` (default "latest"); a missing "best"/"step-N" is an error. */
  static async open(runDir: string, cfg: RunConfig, backbone: Backbone, train: Dataset, val: Dataset, resume: boolean, from?: CheckpointRef): Promise<HyperatSession> {
    // The plan from the loaded model's own shapes and this thread's backend (docs/memory.md).
    const plan = await planRun(cfg, activeBackend(), backbone.vit);
    const trainer = buildTrainer(cfg, backbone.vit, backbone.params, { checkpoint: plan.checkpoint });
    const batcher = new Batcher(train, { batchSize: cfg.training.batchSize, seed: cfg.seed, augment: cfg.data.augment, stream: "train-data" });
    const trainBytes = plan.phases.find((p) => p.phase === "train")!.bytes;
    const session = new HyperatSession(runDir, cfg, backbone, trainer, batcher, val, plan.microBatch, plan.validationBatch, trainBytes);
    if (resume) {
      const ck = from === undefined || from === "latest" ? await latestCheckpoint(runDir) : await resolveCheckpoint(runDir, from);
      if (ck) await session.restore(ck.json, ck.tensors);
    }
    // Measured once per run, at its start: a resumed run already has its line.
    if (session.step === 0 && !from) session.pending.push({ kind: "baseModel", ...(await measureBaseModel(cfg, backbone, val)) });
    return session;
  }

  get step(): number {
    return this.trainer.step;
  }

  get totalSteps(): number {
    return this.cfg.training.steps;
  }

  private async restore(jsonFile: string, tensorFile: string): Promise<void> {
    const json = JSON.parse(await fs.readFile(jsonFile, "utf8")) as CheckpointJson;
    if (json.format !== "hyperat-checkpoint") throw new Error(`${jsonFile}: not a HyperAT checkpoint`);
    if (json.method !== this.cfg.method || json.defenses.join(",") !== this.cfg.defenses.map((d) => d.name).join(",")) {
      throw new Error(`${jsonFile}: checkpoint is for method ${json.method} with defenses [${json.defenses}], config says ${this.cfg.method} [${this.cfg.defenses.map((d) => d.name)}]`);
    }
    const file = await readSafetensorsFile(tensorFile);
    const tensors = Object.fromEntries(Object.entries(file.tensors).map(([k, t]) => [k, tf.tensor(t.data, t.shape)]));
    try {
      this.trainer.restore(json.trainer, tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
    this.batcher.restore(json.batcher as never);
  }

  async runStep(emit: (e: TrainEvent) => void): Promise<void> {
    for (const e of this.pending.splice(0)) emit(e);
    const t0 = Date.now();
    const batch = this.batcher.nextBatch();
    let r;
    try {
      const workers = this.workerCount(emit);
      if (workers > 1) {
        this.parallel ??= TrainerWorkers.create(this.cfg, this.backbone.vit, this.backbone.params, this.trainer, { workers, backend: activeBackend()?.backend ?? this.cfg.backend, microBatch: this.microBatch });
        r = await (await this.parallel).step(batch.x, batch.y);
      } else r = await this.trainer.trainStepAccumulated(batch.x, batch.y, this.microBatch);
    } finally {
      // The trainer throws core's NonFiniteLossError, the one class the run manager matches.
      tf.dispose([batch.x, batch.y]);
    }
    emit({ kind: "step", step: r.step, totalSteps: this.totalSteps, defense: r.defense, loss: r.loss, cleanAcc: r.cleanAcc, advAcc: r.advAcc, lr: r.lr, seconds: (Date.now() - t0) / 1000 });
    const t = this.cfg.training;
    if (r.step % t.normsEvery === 0 || r.step === this.totalSteps) {
      emit({ kind: "loraNorms", step: r.step, ...(await this.trainer.loraNorms()) });
    }
    if ((t.validateEvery > 0 && r.step % t.validateEvery === 0) || r.step === this.totalSteps) {
      emit({ kind: "validating", step: r.step });
      const records = await validateDuringTraining(this.cfg, this.backbone, this.trainer, this.val, this.validationBatch);
      for (const rec of records) emit({ kind: "validation", ...rec });
      await this.keepIfBest(records);
    }
  }

  private workers?: number;

  /** training.workers, capped once per session at what free RAM holds (each worker a model copy and its micro-batch). */
  private workerCount(emit: (e: TrainEvent) => void): number {
    if (this.workers !== undefined) return this.workers;
    const wanted = resolveWorkers(this.cfg.training.workers ?? 1, activeBackend()?.backend);
    const fit = workersThatFit(wanted, this.trainBytes, os.freemem(), { doing: "training", holds: "a model copy and its micro-batch" });
    if (fit.note) emit({ kind: "log", level: "warn", message: fit.note });
    return (this.workers = fit.workers);
  }

  /**
   * Saves checkpoints/best/step-N when this validation is at least as good as the best so far
   * (ties → later), so an early stop at the most robust step survives pruning (Rice et al.,
   * ICML 2020: robust overfitting). The new one is complete before the old one is removed.
   */
  private async keepIfBest(records: EvaluationRecord[]): Promise<void> {
    const target = selectionTarget(this.cfg.method, this.cfg.defenses.map((d) => d.name));
    const prev = await readBestRecord(this.runDir);
    let next = prev;
    for (const r of records) next = nextBest(next, r, target);
    if (next === prev || !next) return;
    await this.writeCheckpoint(path.join(this.runDir, "checkpoints", BEST_DIR), next);
    await pruneCheckpoints(path.join(this.runDir, "checkpoints", BEST_DIR), 1);
  }

  async saveCheckpoint(): Promise<string> {
    const dir = path.join(this.runDir, "checkpoints");
    const file = await this.writeCheckpoint(dir);
    await pruneCheckpoints(dir, 3);
    return file;
  }

  /** Writes `dir`/step-N.safetensors, then its .json (last: marks the checkpoint complete). */
  private async writeCheckpoint(dir: string, best?: BestRecord): Promise<string> {
    const { json, tensors } = this.trainer.state();
    const raw: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of Object.entries(tensors)) raw[k] = { shape: t.shape, data: (await t.data()) as Float32Array };
    const base = path.join(dir, `step-${json.step}`);
    await writeSafetensorsFile(`${base}.safetensors`, raw, { format: "hyperat-checkpoint", step: String(json.step) });
    const doc: CheckpointJson = {
      format: "hyperat-checkpoint",
      version: 1,
      step: json.step,
      trainer: json,
      batcher: this.batcher.state(),
      method: this.cfg.method,
      defenses: this.cfg.defenses.map((d) => d.name),
      ...(best ? { best } : {}),
    };
    await writeFileAtomic(`${base}.json`, JSON.stringify(doc, null, 1)); // last: marks the checkpoint complete
    return `${base}.safetensors`;
  }

  async saveAdapters(): Promise<string[]> {
    return writeAdapterFolders(this.runDir, this.cfg, this.backbone, this.trainer);
  }

  dispose(): void {
    // Terminating needs no reply from the helpers; a failed start has nothing to close.
    void this.parallel?.then((p) => p.close()).catch(() => undefined);
    this.parallel = undefined;
    this.trainer.dispose();
    this.trainer.args.tunable.dispose();
    // The session owns its backbone (each openSession loads its own copy).
    disposeParams(this.backbone.params);
  }
}
