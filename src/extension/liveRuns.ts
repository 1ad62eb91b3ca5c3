// The daemon's live view of running runs, laid over what run folders say. run.json is rewritten
// only at checkpoints and state changes, so between them the disk step lags the step the daemon
// just reported; the tree, status bar and decorations show the reported one.
import type { RunStatusParams } from "../protocol";
import type { RunSummary } from "../protocol/runs";
import type { RunReader } from "./runExplorer";

export class LiveRuns {
  private readonly steps = new Map<string, number>();

  /** A state change: run.json was just written with it, so the disk is current again. */
  status(s: Pick<RunStatusParams, "runId" | "state" | "step">): void {
    if (s.state === "running") this.steps.set(s.runId, s.step);
    else this.steps.delete(s.runId);
  }

  /** A training step finished. Only runs the daemon reported running are tracked, so a late
   * metric after a pause cannot revive a stale step. */
  step(runId: string, step: number): void {
    if (this.steps.has(runId)) this.steps.set(runId, step);
  }

  /** Run id → last reported step of every run the daemon reported running. */
  snapshot(): Map<string, number> {
    return new Map(this.steps);
  }

  /** The daemon went away: nothing it said is live any more. */
  clear(): void {
    this.steps.clear();
  }

  /** `run` with its live step, where the disk still says it is running. */
  apply<T extends RunSummary>(run: T): T {
    const live = this.steps.get(run.id);
    return live === undefined || run.state !== "running" ? run : { ...run, step: live };
  }
}

/** `reader` with the live steps laid over every run it returns. */
export function liveRunReader(reader: RunReader, live: LiveRuns): RunReader {
  return {
    async listRuns() {
      return (await reader.listRuns()).map((r) => live.apply(r));
    },
    async readRun(runId) {
      const d = await reader.readRun(runId);
      return d && live.apply(d);
    },
  };
}
