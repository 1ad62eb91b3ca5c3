import type { CheckpointRef, MergeStrategy } from "../../src/protocol/runs";
// A RunEngine without tensors for daemon tests (HYPERAT_ENGINE=test/daemon/fakeEngine.ts).
// Its "training" is a deterministic recurrence, so a resumed run must reproduce the exact losses
// of an uninterrupted one; `stepMs` blocks the thread like a real step does.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { CancelSignal, EngineProgress, EvaluationReport, MemoryEstimate, MergeOutcome, ModelEvaluationTarget, ResolvedRunConfig, RunEngine, TrainEvent, TrainSession } from "../../src/daemon/compute/contract";
import { ConfigError } from "../../src/core/config/configError";
import { NonFiniteLossError } from "../../src/core/train/nonFiniteLossError";
import { MissingFileError, OperationCancelledError } from "../../src/daemon/errors";
import { isBackendRequest, type BackendRequest } from "../../src/core/backend/names";
import { writeFileAtomic, writeSafetensorsFile } from "../../src/core/io/files";
import { readManifest } from "../../src/daemon/runStore";
import { writeModelReport } from "../../src/daemon/engine/modelReport";
import { renderRunReport } from "../../src/daemon/engine/runReport";

export interface FakeConfig {
  name: string;
  method: string;
  defenses: string[];
  steps: number;
  checkpointEvery: number;
  /** Milliseconds each step blocks its thread. */
  stepMs: number;
  /** Emit a NaN loss at this step. */
  nanAtStep?: number;
  /** With nanAtStep: throw NonFiniteLossError (the contract) instead of only emitting NaN. */
  nanThrows?: boolean;
  /** Throw an ordinary error at this step. */
  failAtStep?: number;
  /** End the thread (process.exit in a worker) at this step, as a wasm abort would. */
  crashAtStep?: number;
  /** Emit a "validating" event before each validation (as the real session does). */
  announceValidation?: boolean;
  /** Report this base-model clean accuracy (10 classes) before the first step of a fresh run. */
  baseModelAccuracy?: number;
  /** Progress reports openSession makes (like a clean pretraining would). */
  prepareSteps?: number;
  /** Evaluation batches; each blocks `opMs` and then yields, like the real evaluator. */
  evalBatches?: number;
  /** Adaptive-merge λ steps; each blocks `opMs` without yielding (a synchronous loop). */
  mergeSteps?: number;
  opMs?: number;
  /** Must exist (relative to the config file). */
  dataFile?: string;
  /** Reported by estimateMemory against a limit of 1 GiB. */
  memoryBytes: number;
  seed: number;
  backend: BackendRequest;
}

const blocker = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread (no event loop turns), as a synchronous tfjs step would. */
function blockFor(ms: number): void {
  if (ms > 0) Atomics.wait(blocker, 0, 0, ms);
}

function validate(raw: unknown, file: string): FakeConfig {
  if (typeof raw !== "object" || raw === null) throw new ConfigError("", "must be an object", file);
  const o = raw as Record<string, unknown>;
  const posInt = (k: string, dflt: number): number => {
    const v = o[k] ?? dflt;
    if (!Number.isInteger(v) || (v as number) < 1) throw new ConfigError(`/${k}`, `must be a positive integer, got ${JSON.stringify(v)}`, file);
    return v as number;
  };
  const defenses = o.defenses ?? ["pgd-at", "trades", "mart"];
  if (!Array.isArray(defenses) || defenses.length === 0 || !defenses.every((d) => typeof d === "string")) {
    throw new ConfigError("/defenses", "must be a non-empty array of defense names", file);
  }
  return {
    name: typeof o.name === "string" ? o.name : "fake",
    method: typeof o.method === "string" ? o.method : "hyperat",
    defenses: defenses as string[],
    steps: posInt("steps", 6),
    checkpointEvery: posInt("checkpointEvery", 2),
    stepMs: typeof o.stepMs === "number" ? o.stepMs : 0,
    nanAtStep: typeof o.nanAtStep === "number" ? o.nanAtStep : undefined,
    failAtStep: typeof o.failAtStep === "number" ? o.failAtStep : undefined,
    nanThrows: o.nanThrows === true,
    prepareSteps: typeof o.prepareSteps === "number" ? o.prepareSteps : undefined,
    announceValidation: o.announceValidation === true,
    baseModelAccuracy: typeof o.baseModelAccuracy === "number" ? o.baseModelAccuracy : undefined,
    evalBatches: typeof o.evalBatches === "number" ? o.evalBatches : undefined,
    mergeSteps: typeof o.mergeSteps === "number" ? o.mergeSteps : undefined,
    opMs: typeof o.opMs === "number" ? o.opMs : undefined,
    crashAtStep: typeof o.crashAtStep === "number" ? o.crashAtStep : undefined,
    dataFile: typeof o.dataFile === "string" ? o.dataFile : undefined,
    memoryBytes: typeof o.memoryBytes === "number" ? o.memoryBytes : 1000,
    seed: typeof o.seed === "number" ? o.seed : 1,
    backend: isBackendRequest(o.backend) ? o.backend : "cpu",
  };
}

function resolved(cfg: FakeConfig): ResolvedRunConfig<FakeConfig> {
  return { name: cfg.name, method: cfg.method, defenses: cfg.defenses, totalSteps: cfg.steps, checkpointEvery: cfg.checkpointEvery, backend: cfg.backend, raw: cfg };
}

/** The "optimizer state": an LCG. */
const advance = (x: number, step: number) => (x * 1103515245 + 12345 + step) % 2 ** 31;

class FakeSession implements TrainSession {
  constructor(private readonly dir: string, private readonly cfg: FakeConfig, public step: number, private x: number) {}
  get totalSteps(): number {
    return this.cfg.steps;
  }

  async runStep(emit: (e: TrainEvent) => void): Promise<void> {
    blockFor(this.cfg.stepMs);
    const next = this.step + 1;
    if (next === this.cfg.failAtStep) throw new Error(`fake engine failure at step ${next}`);
    if (next === this.cfg.crashAtStep) process.exit(3);
    if (next === 1 && this.cfg.baseModelAccuracy !== undefined) {
      const a = this.cfg.baseModelAccuracy;
      emit({ kind: "baseModel", source: "fake pretraining", cleanAccuracy: a, n: 64, numClasses: 10, nearChance: a < 0.2, ...(a < 0.2 ? { hint: "raise model.pretrain.steps" } : {}) });
    }
    if (next === this.cfg.nanAtStep && this.cfg.nanThrows) throw new NonFiniteLossError(next, "trades", NaN);
    this.x = advance(this.x, next);
    const defense = this.cfg.defenses[this.x % this.cfg.defenses.length];
    const loss = next === this.cfg.nanAtStep ? NaN : this.x / 2 ** 31;
    this.step = next;
    emit({ kind: "step", step: next, totalSteps: this.cfg.steps, defense, loss, cleanAcc: 0.5, advAcc: 0.25, lr: 0.001, seconds: this.cfg.stepMs / 1000 });
    if (next % 2 === 0) {
      const norms = Object.fromEntries(this.cfg.defenses.map((d, i) => [d, [next * 0.01 + i, next * 0.02 + i]]));
      emit({ kind: "loraNorms", step: next, layers: ["blocks.0.attn.qkv", "blocks.0.mlp.fc1"], norms });
    }
    if (next % 3 === 0) {
      if (this.cfg.announceValidation) emit({ kind: "validating", step: next });
      emit({ kind: "validation", step: next, target: "uniform", cleanAccuracy: 0.8, robustAccuracy: { "pgd-20": next / 100 }, worstCaseRobustAccuracy: next / 100 });
    }
  }

  async saveCheckpoint(): Promise<string> {
    const base = path.join(this.dir, "checkpoints", `step-${this.step}`);
    await writeSafetensorsFile(`${base}.safetensors`, { state: { shape: [1], data: new Float32Array([this.x]) } });
    await writeFileAtomic(`${base}.json`, JSON.stringify({ step: this.step, x: this.x }));
    return `${base}.safetensors`;
  }

  async saveAdapters(): Promise<string[]> {
    const out: string[] = [];
    for (const d of this.cfg.defenses) {
      const f = path.join(this.dir, "adapters", `${d}.safetensors`);
      await writeSafetensorsFile(f, { "blocks.0.attn.qkv.lora_a": { shape: [1, 2], data: new Float32Array([1, 2]) } });
      out.push(f);
    }
    return out;
  }

  dispose(): void {}
}

/** Latest checkpoint in runDir/checkpoints, or undefined. */
async function latestCheckpoint(dir: string): Promise<{ step: number; x: number } | undefined> {
  const names = await fs.readdir(path.join(dir, "checkpoints")).catch(() => [] as string[]);
  const steps = names.map((n) => /^step-(\d+)\.json$/.exec(n)?.[1]).filter((s): s is string => !!s).map(Number);
  if (steps.length === 0) return undefined;
  const last = Math.max(...steps);
  return JSON.parse(await fs.readFile(path.join(dir, "checkpoints", `step-${last}.json`), "utf8"));
}

export class FakeEngine implements RunEngine<FakeConfig> {
  async loadConfig(configPath: string): Promise<ResolvedRunConfig<FakeConfig>> {
    let text: string;
    try {
      text = await fs.readFile(configPath, "utf8");
    } catch {
      throw new MissingFileError(configPath);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new ConfigError("", `not valid JSON: ${(e as Error).message}`, configPath);
    }
    const cfg = validate(raw, configPath);
    if (cfg.dataFile) {
      cfg.dataFile = path.resolve(path.dirname(configPath), cfg.dataFile);
      try {
        await fs.access(cfg.dataFile);
      } catch {
        throw new MissingFileError(cfg.dataFile, "/dataFile");
      }
    }
    return resolved(cfg);
  }

  async loadFrozenConfig(runDir: string): Promise<ResolvedRunConfig<FakeConfig>> {
    const file = path.join(runDir, "config.json");
    return resolved(validate(JSON.parse(await fs.readFile(file, "utf8")), file));
  }

  async estimateMemory(cfg: ResolvedRunConfig<FakeConfig>): Promise<MemoryEstimate> {
    const bytes = cfg.raw.memoryBytes;
    return { bytes, limitBytes: 2 ** 30, fits: bytes <= 2 ** 30, detail: "fake engine" };
  }

  async openSession(runDir: string, cfg: ResolvedRunConfig<FakeConfig>, resume: boolean, onProgress?: (p: EngineProgress) => void): Promise<TrainSession> {
    const c = cfg.raw;
    if (c.prepareSteps) for (let i = 1; i <= c.prepareSteps; i++) onProgress?.({ title: "pretraining", message: `step ${i}/${c.prepareSteps}`, percentage: (100 * i) / c.prepareSteps });
    const ck = resume ? await latestCheckpoint(runDir) : undefined;
    return new FakeSession(runDir, c, ck?.step ?? 0, ck?.x ?? c.seed);
  }

  async merge(runDir: string, cfg: ResolvedRunConfig<FakeConfig>, strategy: MergeStrategy, onProgress: (p: EngineProgress) => void, _from?: CheckpointRef, signal?: CancelSignal): Promise<MergeOutcome> {
    if (!(await latestCheckpoint(runDir))) throw new Error(`no checkpoint in ${runDir}/checkpoints to merge`);
    const c = cfg.raw;
    for (let s = 1; s <= (c.mergeSteps ?? 0); s++) {
      blockFor(c.opMs ?? 0);
      onProgress({ title: "adaptive merge", message: `λ step ${s}`, percentage: (100 * s) / c.mergeSteps! });
      if (signal?.aborted) throw new OperationCancelledError(path.basename(runDir), "the merge");
    }
    onProgress({ title: "merge", message: "generating LoRAs", percentage: 50 });
    const modelPath = path.join(runDir, "merged", `model-${strategy}.safetensors`);
    await writeSafetensorsFile(modelPath, { "head.weight": { shape: [2], data: new Float32Array([1, 2]) } }, { strategy });
    onProgress({ title: "merge", message: "written", percentage: 100 });
    const K = cfg.defenses.length;
    return { modelPath, lambdas: strategy === "adaptive" ? Object.fromEntries(cfg.defenses.map((d) => [d, [1 / K, 1 / K]])) : undefined };
  }

  async evaluate(runDir: string, cfg: ResolvedRunConfig<FakeConfig>, attacks: string | undefined, onProgress: (p: EngineProgress) => void, from?: CheckpointRef, signal?: CancelSignal, only?: ModelEvaluationTarget): Promise<EvaluationReport> {
    const c = cfg.raw;
    for (let b = 1; b <= (c.evalBatches ?? 0); b++) {
      await new Promise((r) => setImmediate(r));
      if (signal?.aborted) throw Object.assign(new Error("evaluation cancelled during pgd-20"), { name: "EvaluationCancelledError" });
      blockFor(c.opMs ?? 0);
      onProgress({ title: "evaluate", message: `batch ${b}/${c.evalBatches}`, percentage: (100 * b) / c.evalBatches! });
    }
    onProgress({ title: "evaluate", message: attacks ?? "quick", percentage: 100 });
    const manifest = await readManifest(runDir);
    const all: EvaluationReport["models"] = [...cfg.defenses, "uniform"].map((name, i) => ({
      name, target: name, step: manifest.step, cleanAccuracy: 0.8, robustAccuracy: { "pgd-20": 0.3 + i / 100 }, worstCaseRobustAccuracy: 0.3 + i / 100,
    }));
    // One model: the row whose target the selector names (the base model is "pretrained").
    const target = only && (only.model.kind === "adapter" ? only.model.defense : only.model.kind === "merged" ? only.model.strategy : "pretrained");
    const report: EvaluationReport = {
      attacks: attacks ?? "quick",
      models: only ? all.filter((m) => m.target === target) : all,
      ...(only ? { model: only.model } : {}),
    };
    // The engine writes both report files (src/daemon/compute/contract.ts); report.md through the one
    // renderer, with the fields a fake cannot know left plain.
    const rows = report.models.map((m) => ({ ...m, trainableParams: 0, warnings: [], result: { n: 0 } }));
    const view = { run: manifest.name, method: manifest.method, step: manifest.step, from: String(from ?? "latest"), data: "fake", threatModel: { eps: "fake" }, attacks: ["pgd-20"], models: rows };
    if (only) {
      await writeModelReport(runDir, only.reportDir, async (dir) => {
        await writeFileAtomic(path.join(dir, "report.json"), JSON.stringify(report, null, 2) + "\n");
        await writeFileAtomic(path.join(dir, "report.md"), renderRunReport(view));
      });
      return report;
    }
    await writeFileAtomic(path.join(runDir, "report.json"), JSON.stringify(report, null, 2) + "\n");
    await writeFileAtomic(path.join(runDir, "report.md"), renderRunReport(view));
    return report;
  }
}

export function createEngine(): RunEngine<FakeConfig> {
  return new FakeEngine();
}

/** The losses an uninterrupted fake run with this seed reports, step 1..n. */
export function fakeLosses(seed: number, n: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let s = 1; s <= n; s++) {
    x = advance(x, s);
    out.push(x / 2 ** 31);
  }
  return out;
}
