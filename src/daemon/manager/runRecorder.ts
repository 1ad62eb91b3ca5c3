// The recorder: a run's state, run.json and metrics.jsonl, written in order through one queue
// per run, and the events that say so. Nothing else in the daemon writes these two files.
import type { EvaluationRecord, MetricsLine, RunState, RunSummary } from "../../protocol/runs";
import type { RunStatusParams } from "../../protocol/methods";
import type { LogLevel } from "../logger";
import { writeManifest, type RunOwner } from "../runStore";
import { nextBest, selectionTarget } from "../best";
import type { ManagerEvent } from "./events";
import type { LiveRun } from "./liveRun";

export class RunRecorder {
  constructor(
    private readonly owner: RunOwner,
    private readonly emit: (e: ManagerEvent) => void,
  ) {}

  log(level: LogLevel, message: string, runId?: string): void {
    this.emit({ type: "log", level, message, runId });
  }

  /** Queues a write behind the run's earlier ones. */
  enqueueWrite(run: LiveRun, write: () => Promise<void>): Promise<void> {
    // Once another process has taken the run over, it is theirs: write nothing more.
    const guarded = async () => {
      if (await run.lock.verify()) await write();
    };
    run.writes = run.writes.then(guarded).catch((e: Error) => this.log("error", `writing run folder ${run.dir} failed: ${e.message}`, run.id));
    return run.writes;
  }

  persistManifest(run: LiveRun): Promise<void> {
    run.manifest.updatedAt = new Date().toISOString();
    const snapshot = structuredClone(run.manifest);
    return this.enqueueWrite(run, () => writeManifest(run.dir, snapshot));
  }

  appendLines(run: LiveRun, lines: MetricsLine[]): Promise<void> {
    return this.enqueueWrite(run, () => run.metrics.append(lines));
  }

  statusOf(run: LiveRun): RunStatusParams {
    const m = run.manifest;
    return { runId: run.id, state: m.state, step: m.step, totalSteps: m.totalSteps, ...(m.message ? { message: m.message } : {}) };
  }

  emitStatus(run: LiveRun): void {
    this.emit({ type: "status", ...this.statusOf(run) });
  }

  /** Records a state change: metrics line, then run.json, then the notification. */
  async setState(run: LiveRun, state: RunState, message?: string): Promise<void> {
    run.manifest.state = state;
    run.manifest.message = message;
    run.manifest.owner = this.owner;
    void this.appendLines(run, [{ kind: "state", state, step: run.manifest.step, ...(message ? { message } : {}), time: new Date().toISOString() }]);
    await this.persistManifest(run);
    this.emitStatus(run);
  }

  summaryOf(run: LiveRun): RunSummary {
    const { version: _v, owner: _o, ...rest } = run.manifest;
    return { ...rest, dir: run.dir };
  }

  /** Emits a record; a validation record may become the run's best (the rule of checkpoints/best). */
  recordEvaluation(run: LiveRun, r: EvaluationRecord): void {
    if (r.split === "val") {
      run.manifest.best = nextBest(run.manifest.best, r, selectionTarget(run.manifest.method, run.manifest.defenses));
      run.manifest.bestRobustAccuracy = run.manifest.best?.worstCaseRobustAccuracy;
    }
    this.emit({ type: "evaluation", runId: run.id, ...r });
  }
}
