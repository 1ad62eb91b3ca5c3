// The run lifecycle: start (a new run folder, frozen config, queued), pause, resume, stop,
// cancel of a merge or evaluation, and shutdown. Each command is checked against the one state
// table (src/protocol/runStates.ts) first; runManager.ts holds the run (heldRuns) and forwards.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { isValidRunId, RUN_ID_RULE, type RunSummary } from "../../protocol/runs";
import { probeBackend } from "../../core/backend/select";
import { runCommandAccepted, runCommandApplies, type RunCommand } from "../../protocol/runStates";
import type { ResolvedRunConfig, RunEngine } from "../compute/contract";
import { InvalidStateError, MemoryLimitError, MissingFileError } from "../errors";
import type { LogLevel } from "../logger";
import { MANIFEST_VERSION, METRICS_FILE, MetricsAppender, createRunDir, newRunId, unregisterLiveInstance, type RunManifest, type RunOwner } from "../runStore";
import { assertNoSymlinks, resolveRunDir } from "../runPaths";
import type { HeldRuns } from "./heldRuns";
import type { HostPool } from "./hostPool";
import { settle, type LiveRun } from "./liveRun";
import type { RunRecorder } from "./runRecorder";
import type { RunScheduler } from "./runScheduler";

type Run = LiveRun;

export interface RunLifecycleDeps {
  runsDir: string;
  owner: RunOwner;
  recorder: RunRecorder;
  held: HeldRuns;
  scheduler: RunScheduler;
  hosts: HostPool;
  /** The main-thread engine: config validation and memory estimates only. */
  engine: () => RunEngine;
  isClosed: () => boolean;
  log: (level: LogLevel, message: string, runId?: string) => void;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

export class RunLifecycle {
  private readonly runs: Map<string, Run>;

  constructor(private readonly deps: RunLifecycleDeps) {
    this.runs = deps.held.runs;
  }

  private get recorder(): RunRecorder {
    return this.deps.recorder;
  }

  private get scheduler(): RunScheduler {
    return this.deps.scheduler;
  }

  private log(level: LogLevel, message: string, runId?: string): void {
    this.deps.log(level, message, runId);
  }

  /** Refuses a command the shared table (src/protocol/runStates.ts) does not accept in the run's state. */
  private assertAccepted(run: Run, command: RunCommand): void {
    if (!runCommandAccepted(command, run.manifest.state)) throw new InvalidStateError(run.id, run.manifest.state, command);
  }

  /** An explicit backend that cannot load is refused here, not discovered by a failing run;
   * selecting it first also gives the memory estimate the right limit. */
  private async assertFits(cfg: ResolvedRunConfig): Promise<void> {
    if (cfg.backend !== "auto") await probeBackend(cfg.backend);
    const mem = await this.deps.engine().estimateMemory(cfg);
    if (!mem.fits) throw new MemoryLimitError(mem.bytes, mem.limitBytes, mem.detail, mem.lines ? "" : undefined);
  }

  /** Validates the config, freezes it into a new run folder and queues the run. */
  async start(configPath: string, opts: { runDir?: string } = {}): Promise<string> {
    if (this.deps.isClosed()) throw new Error("the run manager is shutting down");
    const file = path.resolve(configPath);
    try {
      await fs.access(file);
    } catch {
      throw new MissingFileError(file);
    }
    const cfg = await this.deps.engine().loadConfig(file);
    await this.assertFits(cfg);
    const id = opts.runDir ? path.basename(path.resolve(opts.runDir)) : newRunId(cfg.name);
    if (!isValidRunId(id)) throw new Error(`--run-dir ${opts.runDir}: the folder name "${id}" is not a run id (${RUN_ID_RULE})`);
    const dir = opts.runDir ? path.resolve(opts.runDir) : path.join(this.deps.runsDir, id);
    if (this.runs.has(id)) throw new Error(`a run with id "${id}" is already open`);
    await fs.mkdir(dir, { recursive: true });
    if (!opts.runDir) await resolveRunDir(this.deps.runsDir, id); // the new folder is a real one inside runsDir
    await assertNoSymlinks(dir);
    // The lock comes before the first write: a second `train --run-dir` on the folder gets RunBusy.
    const lock = await this.deps.held.lockNew(dir, id);
    const now = new Date().toISOString();
    const manifest: RunManifest = {
      version: MANIFEST_VERSION,
      id,
      name: cfg.name,
      configPath: file,
      state: "queued",
      step: 0,
      totalSteps: cfg.totalSteps,
      method: cfg.method,
      defenses: cfg.defenses,
      createdAt: now,
      updatedAt: now,
      owner: this.deps.owner,
    };
    try {
      await createRunDir(dir, manifest, cfg.raw);
    } catch (e) {
      await lock.release();
      throw e;
    }
    const run: Run = {
      id, dir, manifest, cfg,
      metrics: new MetricsAppender(path.join(dir, METRICS_FILE)),
      writes: Promise.resolve(),
      resumeFromCheckpoint: false,
      lastCheckpointStep: 0,
      lock,
      users: 0,
    };
    this.runs.set(id, run);
    this.log("info", `run ${id} created from ${file}`, id);
    this.scheduler.enqueue(run);
    await this.recorder.setState(run, "queued");
    this.scheduler.schedule();
    return id;
  }

  async pause(run: Run): Promise<RunSummary> {
    this.assertAccepted(run, "pause");
    switch (run.manifest.state) {
      case "queued":
        this.scheduler.dequeue(run);
        await this.recorder.setState(run, "paused");
        break;
      case "running":
        run.request = "pause";
        await this.recorder.setState(run, "pausing");
        break;
      // pausing, paused: already on the way there
    }
    return this.recorder.summaryOf(run);
  }

  /** Queues a resumable run again (the caller has taken it over, `force` or not). */
  async resume(run: Run): Promise<RunSummary> {
    const runId = run.id;
    const state = run.manifest.state;
    this.assertAccepted(run, "resume");
    if (state === "pausing" && !run.leavingLoop) {
      run.request = undefined; // the step boundary has not come yet: just keep training
      await this.recorder.setState(run, "running");
    } else if (state === "pausing") {
      run.resumeAfterPause = true; // the checkpoint is being written: continue right after it
    } else if (runCommandApplies("resume", state)) {
      await settle(run);
      if (run.manifest.state === "queued" || run.manifest.state === "running") return this.recorder.summaryOf(run); // a concurrent resume won
      if (run.task || run.manifest.state !== state) throw new InvalidStateError(runId, run.manifest.state, "resume");
      // What can have changed since the run started (its data and model files, the cache
      // folder, the backend and its memory) is checked again before anything is written: a
      // refusal leaves the run as it was, with the same error a start would give (issue 15).
      await this.deps.engine().recheckFrozenConfig?.(run.dir);
      await this.assertFits(run.cfg);
      run.resumeFromCheckpoint = true;
      this.scheduler.enqueue(run);
      await this.recorder.setState(run, "queued");
      this.scheduler.schedule();
    } // running, queued: already resumed
    return this.recorder.summaryOf(run);
  }

  async stop(run: Run): Promise<RunSummary> {
    this.assertAccepted(run, "stop");
    switch (run.manifest.state) {
      case "queued":
        this.scheduler.dequeue(run);
        await this.recorder.setState(run, "stopped");
        break;
      case "running":
      case "pausing":
        run.request = "stop";
        this.log("info", `run ${run.id} stops at the next step boundary`, run.id);
        break;
      case "paused":
      case "interrupted":
        await this.recorder.setState(run, "stopped");
        break;
      case "merging":
      case "evaluating":
        return this.cancel(run);
      // stopped: already there
    }
    return this.recorder.summaryOf(run);
  }

  /** Cancels the merge or evaluation in progress and answers once the run is back in its state
   * before (the operation's own request fails with OperationCancelledError). */
  async cancel(run: Run): Promise<RunSummary> {
    const op = run.operation;
    if (!op || !runCommandAccepted("cancel", run.manifest.state)) throw new InvalidStateError(run.id, run.manifest.state, "cancel");
    this.log("info", `run ${run.id}: cancelling the ${run.manifest.state === "merging" ? "merge" : "evaluation"}`, run.id);
    op.abort();
    await run.task?.catch(() => {});
    return this.recorder.summaryOf(run);
  }

  /** Pauses training runs at their next step boundary and waits for them (the caller has stopped taking work). */
  async shutdown(): Promise<void> {
    for (const id of this.scheduler.drain()) {
      const run = this.runs.get(id);
      if (run) await this.recorder.setState(run, "paused", "paused because the daemon shut down while the run was queued");
    }
    for (const run of this.runs.values()) {
      if (run.manifest.state === "running" || run.manifest.state === "pausing") {
        run.request = "pause";
        run.requestReason = "paused because the daemon shut down; resume to continue";
        if (run.manifest.state === "running") await this.recorder.setState(run, "pausing");
      }
    }
    await Promise.allSettled([...this.runs.values()].map((r) => r.task));
    await Promise.allSettled([...this.runs.values()].map((r) => r.writes));
    await this.deps.hosts.endIdle();
    await this.deps.held.releaseAll();
    unregisterLiveInstance(this.deps.owner.instance);
  }

  /** Resolves when no run of this manager is training, queued, merging or evaluating. */
  async idle(): Promise<void> {
    for (;;) {
      const tasks = [...this.runs.values()].map((r) => r.task).filter(Boolean);
      if (tasks.length === 0 && this.scheduler.length === 0) return;
      await Promise.allSettled(tasks);
      await nextTick();
    }
  }
}
