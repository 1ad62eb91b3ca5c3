// The real HyperAT engine's config loading, preflight and memory estimate, with sessions that
// end at once: what the config fuzz needs to tell "a valid start" from "a clean refusal"
// through RunManager.start without training each valid mutant.
import * as path from "node:path";
import type { ResolvedRunConfig, RunEngine, TrainSession } from "../../src/daemon/compute/contract";
import { HyperatEngine } from "../../src/daemon/engine/hyperatEngine";

class PreflightOnlyEngine extends HyperatEngine implements RunEngine {
  override async openSession(runDir: string, cfg: ResolvedRunConfig): Promise<TrainSession> {
    return {
      step: cfg.totalSteps,
      totalSteps: cfg.totalSteps,
      runStep: async () => {},
      saveCheckpoint: async () => path.join(runDir, "checkpoints", "none.safetensors"),
      saveAdapters: async () => [],
      dispose: () => {},
    };
  }
}

export function createEngine(): RunEngine {
  return new PreflightOnlyEngine();
}
