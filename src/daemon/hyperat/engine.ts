import { RunConfig } from "../../core/config/types";
import { selectBackend, activeBackend } from "../../core/backend/select";
import { Dataset } from "../../core/data/types";
import { numTokens } from "../../core/model/config";
import { disposeParams, paramShapes } from "../../core/model/params";
import { presetConfig } from "../../core/model/config";
import { CancelSignal, EngineProgress, MergeOutcome, ResolvedRunConfig, RunEngine, TrainSession } from "../engine";
import { loadConfigFile, loadFrozenConfigFile, toResolved } from "./configFile";
import { resolveBackbone, Backbone } from "./backbone";
import { HyperatSession } from "./session";
import { mergeRun } from "./mergeRun";
import { evaluateRun } from "./evaluateRun";
import { loadSplit, loadTrainVal, recordDataSplit } from "./runData";
import { CheckpointRef } from "../../protocol/runs";
import { defaultSuite } from "./evaluateRun";

/** wasm's heap stops near 3.9 GiB and corrupts tensors before it errors; stay well below. */
const WASM_LIMIT = 3.2 * 2 ** 30;

/** The RunEngine the daemon drives: src/core training wired to files in a run folder. */
export class HyperatEngine implements RunEngine {
  async loadConfig(configPath: string): Promise<ResolvedRunConfig> {
    return toResolved(await loadConfigFile(configPath));
  }

  async loadFrozenConfig(runDir: string): Promise<ResolvedRunConfig> {
    return toResolved(await loadFrozenConfigFile(runDir));
  }

  /**
   * Peak bytes ≈ parameters (+ optimizer moments for what trains) + activations kept for the
   * backward pass: per image and block about T·(10·D + 2·mlpDim) floats plus H·T² for
   * attention, twice for forward+backward. Rough, but it catches batch sizes that would blow
   * the wasm heap before they corrupt anything.
   */
  estimateMemory(rc: ResolvedRunConfig): { bytes: number; limitBytes: number; detail: string } {
    const cfg = rc.raw as RunConfig;
    const vit = cfg.model.path ? undefined : presetConfig(cfg.model.preset, { imgSize: cfg.model.imgSize, patchSize: cfg.model.patchSize });
    const backend = activeBackend()?.backend ?? "wasm";
    const limitBytes = backend === "wasm" ? WASM_LIMIT : 16 * 2 ** 30;
    if (!vit) return { bytes: 0, limitBytes, detail: "model file: estimated when loaded" };
    const T = numTokens(vit);
    const params = paramShapes(vit).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
    const perImage = vit.depth * (T * (10 * vit.dim + 2 * vit.mlpDim) + vit.heads * T * T) * 2;
    const batch = cfg.training.batchSize;
    const trainableFactor = cfg.method === "full-at" ? 4 : 1.2;
    const bytes = 4 * (params * trainableFactor + batch * perImage * 2);
    return { bytes, limitBytes, detail: `${cfg.model.preset}, batch ${batch}, ${T} tokens on ${backend}` };
  }

  /** Backbone + data for a config (pretraining on first use of a preset with `model.pretrain`). */
  async prepare(cfg: RunConfig, onProgress?: (p: EngineProgress) => void): Promise<{ backbone: Backbone; train: Dataset; val: Dataset; valIndices?: number[] }> {
    await selectBackend(cfg.backend);
    const { train, val, valIndices } = await loadTrainVal(cfg);
    const backbone = await resolveBackbone(cfg, train, (p) =>
      onProgress?.({ title: p.title, message: `step ${p.step}/${p.total}${p.loss !== undefined ? `, loss ${p.loss.toFixed(3)}` : ""}`, percentage: (100 * p.step) / p.total }),
    );
    return { backbone, train, val, valIndices };
  }

  async openSession(runDir: string, rc: ResolvedRunConfig, resume: boolean, onProgress?: (p: EngineProgress) => void, from?: CheckpointRef): Promise<TrainSession> {
    const cfg = rc.raw as RunConfig;
    const { backbone, train, val, valIndices } = await this.prepare(cfg, onProgress);
    try {
      await recordDataSplit(runDir, cfg, { train, val, valIndices });
    } catch (e) {
      disposeParams(backbone.params);
      throw e;
    }
    return HyperatSession.open(runDir, cfg, backbone, train, val, resume, from);
  }

  async merge(runDir: string, rc: ResolvedRunConfig, strategy: "uniform" | "adaptive", onProgress: (p: EngineProgress) => void, from: CheckpointRef = "latest", signal?: CancelSignal): Promise<MergeOutcome> {
    const session = (await this.openSession(runDir, rc, true, undefined, from)) as HyperatSession;
    try {
      return await mergeRun(runDir, rc.raw as RunConfig, session, strategy, onProgress, from, signal);
    } finally {
      session.dispose();
    }
  }

  async evaluate(runDir: string, rc: ResolvedRunConfig, attacks: string | undefined, onProgress: (p: EngineProgress) => void, from: CheckpointRef = "latest", signal?: CancelSignal): Promise<unknown> {
    const cfg = rc.raw as RunConfig;
    const session = (await this.openSession(runDir, rc, true, undefined, from)) as HyperatSession;
    try {
      const test = await loadSplit(cfg, "test");
      return await evaluateRun(runDir, cfg, session, test, attacks === undefined || attacks === "auto" ? defaultSuite(cfg) : attacks, onProgress, from, signal);
    } finally {
      session.dispose();
    }
  }
}
