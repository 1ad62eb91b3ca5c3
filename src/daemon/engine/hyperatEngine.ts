import { MergeStrategy, RunConfig } from "../../core/config/types";
import { selectBackend } from "../../core/backend/select";
import { Dataset } from "../../core/data/types";
import { disposeParams } from "../../core/model/params";
import { describePlan } from "../../core/memory/plan";
import { planRun } from "./memoryPlan";
import { CancelSignal, EngineProgress, MemoryEstimate, MergeOutcome, ModelEvaluationTarget, ResolvedRunConfig, RunEngine, TrainSession } from "../compute/contract";
import { loadConfigFile, loadFrozenConfigFile, recheckFrozenConfigFile, toResolved } from "./configFile";
import { checkConfigText } from "../configCheck";
import type { ConfigCheckProblem } from "../../protocol/methods";
import { resolveBackbone, Backbone } from "./backbone";
import { HyperatSession } from "./trainSession";
import { mergeRun } from "./mergeRun";
import { evaluateRun } from "./evaluateRun";
import { loadSplit, loadTrainVal, recordDataSplit } from "./runData";
import { CheckpointRef } from "../../protocol/runs";
import { defaultSuite } from "./evaluateRun";
import type { RunReport } from "../../core/evaluate/runReportJson";

/** The RunEngine the daemon drives: src/core training wired to files in a run folder. */
export class HyperatEngine implements RunEngine {
  async loadConfig(configPath: string): Promise<ResolvedRunConfig> {
    return toResolved(await loadConfigFile(configPath));
  }

  async loadFrozenConfig(runDir: string): Promise<ResolvedRunConfig> {
    return toResolved(await loadFrozenConfigFile(runDir));
  }

  async recheckFrozenConfig(runDir: string): Promise<void> {
    await recheckFrozenConfigFile(runDir);
  }

  checkConfigText(text: string, configPath: string): Promise<ConfigCheckProblem[]> {
    return checkConfigText(text, configPath);
  }

  /**
   * The memory plan (src/core/memory/plan.ts) from the model's shapes — a `model.path`'s from
   * its safetensors header, no weights read — against the active backend's limit (wasm when
   * none is selected yet: the backend every machine has).
   */
  async estimateMemory(rc: ResolvedRunConfig): Promise<MemoryEstimate> {
    const plan = await planRun(rc.raw);
    return {
      bytes: plan.peak.bytes,
      limitBytes: plan.limit.bytes,
      fits: plan.fits,
      detail: plan.fits ? `${plan.peak.phase} phase at batch ${plan.peak.batch}` : plan.problems.join("; "),
      lines: describePlan(plan),
      microBatch: plan.microBatch,
    };
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
    const cfg = rc.raw;
    const { backbone, train, val, valIndices } = await this.prepare(cfg, onProgress);
    try {
      await recordDataSplit(runDir, cfg, { train, val, valIndices });
    } catch (e) {
      disposeParams(backbone.params);
      throw e;
    }
    return HyperatSession.open(runDir, cfg, backbone, train, val, resume, from);
  }

  async merge(runDir: string, rc: ResolvedRunConfig, strategy: MergeStrategy, onProgress: (p: EngineProgress) => void, from: CheckpointRef = "latest", signal?: CancelSignal): Promise<MergeOutcome> {
    const session = (await this.openSession(runDir, rc, true, undefined, from)) as HyperatSession;
    try {
      return await mergeRun(runDir, rc.raw, session, strategy, onProgress, from, signal);
    } finally {
      session.dispose();
    }
  }

  async evaluate(runDir: string, rc: ResolvedRunConfig, attacks: string | undefined, onProgress: (p: EngineProgress) => void, from: CheckpointRef = "latest", signal?: CancelSignal, only?: ModelEvaluationTarget): Promise<RunReport> {
    const cfg = rc.raw;
    const session = (await this.openSession(runDir, rc, true, undefined, from)) as HyperatSession;
    try {
      const test = await loadSplit(cfg, "test");
      return await evaluateRun(runDir, cfg, session, test, attacks === undefined || attacks === "auto" ? defaultSuite(cfg) : attacks, onProgress, from, signal, only);
    } finally {
      session.dispose();
    }
  }
}
