// The real HyperAT engine's config loading, preflight, recheck and memory plan, with sessions
// whose first step fails: a run that passed the pass at start and ends `failed` (resumable)
// without training, so a resume test can change its files and try again.
import type { ResolvedRunConfig, RunEngine, TrainSession } from "../../src/daemon/compute/contract";
import { HyperatEngine } from "../../src/daemon/engine/hyperatEngine";

class FailingStepEngine extends HyperatEngine implements RunEngine {
  override async openSession(_runDir: string, cfg: ResolvedRunConfig): Promise<TrainSession> {
    return {
      step: 0,
      totalSteps: cfg.totalSteps,
      runStep: async () => {
        throw new Error("the test engine's step fails on purpose");
      },
      saveCheckpoint: async () => {
        throw new Error("the test engine writes no checkpoint");
      },
      saveAdapters: async () => [],
      dispose: () => {},
    };
  }
}

export function createEngine(): RunEngine {
  return new FailingStepEngine();
}
