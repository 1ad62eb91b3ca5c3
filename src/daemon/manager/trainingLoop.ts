// The training loop of one run: open the session, step until done or asked to pause/stop,
// checkpoint at step boundaries, and turn the engine's train events into metrics lines and
// notifications. A non-finite loss pauses at the last good checkpoint.
import * as path from "node:path";
import type { MetricsLine } from "../../protocol/runs";
import type { EngineProgress, TrainEvent } from "../compute/contract";
import type { ComputeHost } from "../compute/inProcess";
import { NonFiniteLossError } from "../../core/train/nonFiniteLossError";
import { explainError } from "../../core/engineErrors";
import type { ManagerEvent, ProgressTokens } from "./events";
import type { HostPool } from "./hostPool";
import type { LiveRun } from "./liveRun";
import type { RunRecorder } from "./runRecorder";

export interface TrainingLoopDeps {
  recorder: RunRecorder;
  hosts: HostPool;
  tokens: ProgressTokens;
  emit: (e: ManagerEvent) => void;
  isClosed: () => boolean;
  /** Queues the run again (a resume that arrived while the loop was pausing). */
  requeue: (run: LiveRun) => void;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

export class TrainingLoop {
  /** The open "validate" progress token per run (beginValidation). */
  private readonly validationTokens = new Map<string, string>();

  constructor(private readonly deps: TrainingLoopDeps) {}

  async train(run: LiveRun): Promise<void> {
    const host = this.deps.hosts.acquire();
    let healthy = true;
    run.host = host;
    try {
      await this.deps.recorder.setState(run, "running");
      const opened = await this.openWithProgress(run, host);
      if (run.resumeFromCheckpoint) {
        await this.deps.recorder.appendLines(run, [{ kind: "resume", fromStep: opened.step, time: new Date().toISOString() }]);
        this.deps.recorder.log("info", `run ${run.id} resumed from step ${opened.step}`, run.id);
      }
      run.manifest.step = opened.step;
      run.manifest.totalSteps = opened.totalSteps;
      run.manifest.backend = host.memory()?.backend ?? run.manifest.backend;
      run.lastCheckpointStep = opened.step;
      await this.deps.recorder.persistManifest(run);
      while (run.manifest.step < run.manifest.totalSteps && !run.request && !run.lock.lost) {
        await this.step(run, host);
        await nextTick(); // let pause/stop requests (and signals in the CLI) in between steps
      }
      // From here on a pause or stop can no longer be cancelled (see resume()).
      run.leavingLoop = true;
      if (run.lock.lost) return; // taken over: the new owner continues from the last checkpoint
      if (run.manifest.step >= run.manifest.totalSteps) {
        await this.checkpoint(run, host);
        const adapters = await host.saveAdapters();
        this.deps.recorder.log("info", `run ${run.id} completed; wrote ${adapters.length} adapter file(s)`, run.id);
        await this.deps.recorder.setState(run, "completed");
      } else {
        await this.checkpoint(run, host);
        await this.deps.recorder.setState(run, run.request === "stop" ? "stopped" : "paused", run.requestReason);
      }
    } catch (e) {
      const err = explainError(e); // an out-of-memory abort says what to lower (core/engineErrors.ts)
      if (err instanceof NonFiniteLossError) {
        // Train no further on garbage: keep the last good checkpoint and let the user decide.
        run.manifest.step = run.lastCheckpointStep;
        await this.deps.recorder.setState(run, "paused", `${err.message}; paused at the last checkpoint (step ${run.lastCheckpointStep})`);
        this.deps.recorder.log("warn", `run ${run.id}: ${err.message}`, run.id);
      } else {
        healthy = false;
        this.deps.recorder.log("error", `run ${run.id} failed: ${err.message}`, run.id);
        await this.deps.recorder.setState(run, "failed", err.message);
      }
    } finally {
      run.request = undefined;
      run.requestReason = undefined;
      run.leavingLoop = false;
      run.host = undefined;
      run.resumeFromCheckpoint = true;
      await this.deps.hosts.release(host, healthy);
      if (run.resumeAfterPause) {
        run.resumeAfterPause = false;
        if (run.manifest.state === "paused" && !this.deps.isClosed()) {
          this.deps.requeue(run); // scheduled when this task ends
          await this.deps.recorder.setState(run, "queued");
        }
      }
    }
  }

  /** Opens the session; slow preparation (e.g. clean-pretraining a preset) shows as progress,
   * begun only when the engine first reports so quick opens stay quiet. */
  private async openWithProgress(run: LiveRun, host: ComputeHost): Promise<{ step: number; totalSteps: number }> {
    const token = this.deps.tokens.next(run.id, "prepare");
    let begun = false;
    const onProgress = (p: EngineProgress) => {
      if (!begun) {
        begun = true;
        this.deps.emit({ type: "progress", token, runId: run.id, operation: "prepare", value: { kind: "begin", title: `Preparing ${run.id}: ${p.title}`, cancellable: false } });
      }
      this.deps.emit({ type: "progress", token, runId: run.id, operation: "prepare", value: { kind: "report", message: p.message ?? p.title, percentage: p.percentage } });
    };
    try {
      return await host.openSession(run.dir, run.cfg, run.resumeFromCheckpoint, onProgress);
    } finally {
      if (begun) this.deps.emit({ type: "progress", token, runId: run.id, operation: "prepare", value: { kind: "end" } });
    }
  }

  private async step(run: LiveRun, host: ComputeHost): Promise<void> {
    let nonFinite: TrainEvent | undefined;
    let after;
    try {
      after = await host.runStep((e) => {
        if (e.kind === "step" && !Number.isFinite(e.loss)) nonFinite = e;
        this.onTrainEvent(run, e);
      });
    } finally {
      this.endValidation(run);
    }
    if (nonFinite && nonFinite.kind === "step") throw new NonFiniteLossError(nonFinite.step, nonFinite.defense, nonFinite.loss);
    run.manifest.step = after.step;
    if (after.step % Math.max(1, run.cfg.checkpointEvery) === 0) await this.checkpoint(run, host);
  }

  private async checkpoint(run: LiveRun, host: ComputeHost): Promise<void> {
    if (!(await run.lock.verify())) return;
    if (run.manifest.step === run.lastCheckpointStep && run.manifest.step !== 0) return;
    const file = await host.saveCheckpoint();
    run.lastCheckpointStep = run.manifest.step;
    await this.deps.recorder.persistManifest(run);
    this.deps.recorder.log("debug", `run ${run.id}: checkpoint ${path.relative(run.dir, file)}`, run.id);
    this.deps.recorder.emitStatus(run);
  }

  private onTrainEvent(run: LiveRun, e: TrainEvent): void {
    if (e.kind === "validating") {
      this.beginValidation(run, e.step);
      return;
    }
    void this.deps.recorder.appendLines(run, [{ ...e, time: new Date().toISOString() } as MetricsLine]);
    switch (e.kind) {
      case "baseModel": {
        const { kind: _k, ...b } = e;
        this.deps.emit({ type: "baseModel", runId: run.id, ...b });
        const text = `base model (${b.source}) clean accuracy ${(100 * b.cleanAccuracy).toFixed(1)}% on ${b.n} val images, chance ${(100 / b.numClasses).toFixed(1)}%`;
        if (b.nearChance) this.deps.recorder.log("warn", `run ${run.id}: ${text}: near chance; ${b.hint ?? ""}`, run.id);
        else this.deps.recorder.log("info", `run ${run.id}: ${text}`, run.id);
        break;
      }
      case "step": {
        const { kind: _k, ...m } = e;
        this.deps.emit({ type: "metrics", runId: run.id, ...m });
        break;
      }
      case "loraNorms": {
        const { kind: _k, ...n } = e;
        this.deps.emit({ type: "loraNorms", runId: run.id, ...n });
        break;
      }
      case "validation": {
        const { kind: _k, ...r } = e;
        this.deps.recorder.recordEvaluation(run, { ...r, split: "val" });
        break;
      }
      case "log":
        this.deps.recorder.log(e.level, `run ${run.id}: ${e.message}`, run.id);
        break;
    }
  }

  /** Validation runs inside a step; it shows as a "validate" progress so the row, the status bar
   * and the dashboard say "validating" instead of a step count that stands still. */
  private beginValidation(run: LiveRun, step: number): void {
    this.endValidation(run);
    const token = this.deps.tokens.next(run.id, "validate");
    this.validationTokens.set(run.id, token);
    this.deps.emit({ type: "progress", token, runId: run.id, operation: "validate", value: { kind: "begin", title: `Validating ${run.id} at step ${step}`, cancellable: false } });
  }

  private endValidation(run: LiveRun): void {
    const token = this.validationTokens.get(run.id);
    if (!token) return;
    this.validationTokens.delete(run.id);
    this.deps.emit({ type: "progress", token, runId: run.id, operation: "validate", value: { kind: "end" } });
  }
}
