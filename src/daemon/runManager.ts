// RunManager: the one code path for a run, shared by the daemon (over JSON-RPC) and the CLI
// (in-process). Queue, state machine and persistence; the tensors live behind a ComputeHost.
//
//   queued → running → pausing → paused        (checkpoint at the step boundary)
//                    → stopped                  (checkpoint, resumable)
//                    → completed                (checkpoint + adapters)
//                    → paused (NaN loss)        (last good checkpoint kept)
//                    → failed
//   paused|stopped|interrupted|failed → queued (resume);  paused|stopped|completed|interrupted → merging|evaluating → back
//   (which command applies in which state: src/protocol/runStates.ts, shared with the extension)
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../core/io/files";
import { ACTIVE_RUN_STATES, type EvaluationRecord, type MergeRecord, type MetricsLine, type RunDetail, type RunState, type RunSummary } from "../protocol/runs";
import type { ProgressParams, RunEvaluateResult, RunEvaluationParams, RunLoraNormsParams, RunMetricsParams, RunStatusParams } from "../protocol/methods";
import type { EngineProgress, ResolvedRunConfig, RunEngine, TrainEvent } from "./engine";
import type { ComputeHost, ComputeMemory } from "./computeHost";
import { InProcessHost, tfMemory } from "./computeHost";
import { selectBackend } from "../core/backend/select";
import { WorkerHost } from "./workerHost";
import { loadEngine, type EngineModule } from "./engineLoader";
import { RUN_COMMAND_STATES } from "../protocol/runStates";
import { InvalidStateError, OperationCancelledError, MemoryLimitError, MissingFileError, NonFiniteLossError, RunBusyError, UnknownRunError } from "./errors";
import {
  MANIFEST_VERSION,
  MetricsAppender,
  RunManifest,
  RunOwner,
  createRunDir,
  effectiveState,
  listRunSummaries,
  newRunId,
  readManifest,
  readRunDetail,
  registerLiveInstance,
  removeStaleTempFiles,
  unregisterLiveInstance,
  writeManifest,
  METRICS_FILE,
} from "./runStore";
import { extractEvaluationRecords, renderReportMarkdown } from "./report";

import type { LogLevel } from "./logger";
export type { LogLevel };

/** What the manager tells its listeners; the RPC server forwards each as a notification. */
export type ManagerEvent =
  | ({ type: "status" } & RunStatusParams)
  | ({ type: "metrics" } & RunMetricsParams)
  | ({ type: "loraNorms" } & RunLoraNormsParams)
  | ({ type: "evaluation" } & RunEvaluationParams)
  | ({ type: "progress" } & ProgressParams)
  | { type: "log"; level: LogLevel; message: string; runId?: string };

export interface RunManagerOptions {
  /** `<workspace>/.hyperat/runs` */
  runsDir: string;
  /** Engine module for tests (see engineLoader.ts); the HyperAT engine when undefined. */
  engineModule?: EngineModule;
  /** Compute each run in a worker thread (daemon) or in this thread (CLI, unit tests). Default true. */
  useWorkers?: boolean;
  /** Runs that train at the same time; the rest wait as `queued`. Default 1. */
  maxConcurrentRuns?: number;
  /** How long a finished worker stays warm for the next operation (merge after training, ...).
   * Idle workers are ended after this: a wasm heap never shrinks while its thread lives. Default 30 s. */
  idleWorkerMs?: number;
}

interface Run {
  id: string;
  dir: string;
  manifest: RunManifest;
  cfg: ResolvedRunConfig;
  metrics: MetricsAppender;
  /** Disk writes of this run, in order (manifest snapshots and metrics lines). */
  writes: Promise<void>;
  /** Set by pause/stop/shutdown; honoured at the next step boundary. */
  request?: "pause" | "stop";
  /** Why, when it is not the user's own request (e.g. the daemon shut down). */
  requestReason?: string;
  /** The training loop has passed its last step boundary and is pausing, stopping or completing. */
  leavingLoop?: boolean;
  /** A resume arrived while leaving the loop: queue the run again once it is paused. */
  resumeAfterPause?: boolean;
  /** The training loop or the merge/evaluate in progress. */
  task?: Promise<unknown>;
  /** Aborts the merge/evaluate in progress (cancel, or stop while it runs). */
  operation?: AbortController;
  resumeFromCheckpoint: boolean;
  lastCheckpointStep: number;
  host?: ComputeHost;
}

const RESUMABLE = RUN_COMMAND_STATES.resume;

const nextTick = () => new Promise<void>((r) => setImmediate(r));

export class RunManager {
  readonly runsDir: string;
  readonly useWorkers: boolean;
  readonly maxConcurrentRuns: number;
  private readonly engineModule: EngineModule;
  private engineInstance?: RunEngine;
  private readonly owner: RunOwner;
  private readonly runs = new Map<string, Run>();
  private readonly queue: string[] = [];
  private readonly listeners = new Set<(e: ManagerEvent) => void>();
  private progressCounter = 0;
  private readonly idleHosts: ComputeHost[] = [];
  private idleTimer?: NodeJS.Timeout;
  private readonly idleWorkerMs: number;
  private closed = false;

  constructor(opts: RunManagerOptions) {
    this.runsDir = path.resolve(opts.runsDir);
    this.engineModule = opts.engineModule;
    this.useWorkers = opts.useWorkers ?? true;
    this.maxConcurrentRuns = Math.max(1, opts.maxConcurrentRuns ?? 1);
    this.idleWorkerMs = opts.idleWorkerMs ?? 30_000;
    this.owner = { pid: process.pid, instance: randomBytes(8).toString("hex"), startedAt: new Date().toISOString() };
    registerLiveInstance(this.owner.instance);
  }

  /** The main-thread engine: config validation and memory estimates only. */
  private get engine(): RunEngine {
    this.engineInstance ??= loadEngine(this.engineModule);
    return this.engineInstance;
  }

  onEvent(listener: (e: ManagerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: ManagerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure must not break a run */
      }
    }
  }

  private log(level: LogLevel, message: string, runId?: string): void {
    this.emit({ type: "log", level, message, runId });
  }

  /** A warm idle worker when there is one (booting one costs seconds: tfjs, wasm, the engine). */
  private acquireHost(): ComputeHost {
    const warm = this.idleHosts.pop();
    if (warm) return warm;
    return this.useWorkers ? new WorkerHost(this.engineModule) : new InProcessHost(loadEngine(this.engineModule));
  }

  /** Keeps one healthy worker warm for a while; anything else ends. */
  private async releaseHost(host: ComputeHost, healthy: boolean): Promise<void> {
    try {
      await host.closeSession();
    } catch {
      healthy = false;
    }
    if (!healthy || this.closed || !this.useWorkers || this.idleHosts.length > 0) {
      await host.terminate().catch(() => {});
      return;
    }
    this.idleHosts.push(host);
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.endIdleHosts(), this.idleWorkerMs);
    this.idleTimer.unref();
  }

  private async endIdleHosts(): Promise<void> {
    clearTimeout(this.idleTimer);
    await Promise.allSettled(this.idleHosts.splice(0).map((h) => h.terminate()));
  }

  // ------------------------------------------------------------ persistence

  private enqueueWrite(run: Run, write: () => Promise<void>): Promise<void> {
    run.writes = run.writes.then(write).catch((e: Error) => this.log("error", `writing run folder ${run.dir} failed: ${e.message}`, run.id));
    return run.writes;
  }

  private persistManifest(run: Run): Promise<void> {
    run.manifest.updatedAt = new Date().toISOString();
    const snapshot = structuredClone(run.manifest);
    return this.enqueueWrite(run, () => writeManifest(run.dir, snapshot));
  }

  private appendLines(run: Run, lines: MetricsLine[]): Promise<void> {
    return this.enqueueWrite(run, () => run.metrics.append(lines));
  }

  private statusOf(run: Run): RunStatusParams {
    const m = run.manifest;
    return { runId: run.id, state: m.state, step: m.step, totalSteps: m.totalSteps, ...(m.message ? { message: m.message } : {}) };
  }

  /** Records a state change: metrics line, then run.json, then the notification. */
  private async setState(run: Run, state: RunState, message?: string): Promise<void> {
    run.manifest.state = state;
    run.manifest.message = message;
    run.manifest.owner = this.owner;
    void this.appendLines(run, [{ kind: "state", state, step: run.manifest.step, ...(message ? { message } : {}), time: new Date().toISOString() }]);
    await this.persistManifest(run);
    this.emit({ type: "status", ...this.statusOf(run) });
  }

  private summaryOf(run: Run): RunSummary {
    const { version: _v, owner: _o, ...rest } = run.manifest;
    return { ...rest, dir: run.dir };
  }

  // ------------------------------------------------------------ lookup

  /** A run this manager controls: already live, or adopted from its folder (taking ownership). */
  private async takeRun(runId: string): Promise<Run> {
    const live = this.runs.get(runId);
    if (live) return live;
    if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId.startsWith(".")) throw new UnknownRunError(runId);
    return this.adoptDir(path.join(this.runsDir, runId), runId);
  }

  /** Loads the run in `dir` (e.g. `hyperat resume DIR`); returns its id. */
  async adopt(dir: string): Promise<string> {
    return (await this.adoptDir(path.resolve(dir))).id;
  }

  private async adoptDir(dir: string, requestedId?: string): Promise<Run> {
    let manifest: RunManifest;
    try {
      manifest = await readManifest(dir);
    } catch (e) {
      if (requestedId) throw new UnknownRunError(requestedId);
      throw e;
    }
    const existing = this.runs.get(manifest.id);
    if (existing) return existing;
    const state = effectiveState(manifest);
    // Still active after effectiveState means a live owner that is not us (ours are in the map).
    if (ACTIVE_RUN_STATES.includes(state)) throw new RunBusyError(manifest.id, manifest.owner?.pid ?? -1);
    if (state === "interrupted") {
      const removed = await removeStaleTempFiles(dir);
      if (removed.length) this.log("info", `run ${manifest.id}: removed ${removed.length} temp file(s) of writes the crash cut short`, manifest.id);
    }
    const cfg = await this.engine.loadFrozenConfig(dir);
    // Two requests may adopt the same run at once; the first one to get here wins.
    const raced = this.runs.get(manifest.id);
    if (raced) return raced;
    const run: Run = {
      id: manifest.id,
      dir,
      manifest: { ...manifest, state },
      cfg,
      metrics: new MetricsAppender(path.join(dir, METRICS_FILE)),
      writes: Promise.resolve(),
      resumeFromCheckpoint: true,
      lastCheckpointStep: manifest.step,
    };
    this.runs.set(run.id, run);
    return run;
  }

  // ------------------------------------------------------------ queries

  async list(): Promise<RunSummary[]> {
    const onDisk = await listRunSummaries(this.runsDir, (d, e) => this.log("warn", `skipping unreadable run folder ${d}: ${e.message}`));
    const byId = new Map(onDisk.map((s) => [s.id, s]));
    for (const run of this.runs.values()) byId.set(run.id, this.summaryOf(run));
    return [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  async get(runId: string): Promise<RunDetail> {
    const live = this.runs.get(runId);
    if (live) {
      await live.writes;
      return { ...(await readRunDetail(live.dir)), ...this.summaryOf(live) };
    }
    if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId.startsWith(".")) throw new UnknownRunError(runId);
    try {
      return await readRunDetail(path.join(this.runsDir, runId));
    } catch {
      throw new UnknownRunError(runId);
    }
  }

  /** Runs whose training loop is in progress. */
  activeRunCount(): number {
    return [...this.runs.values()].filter((r) => r.host && (r.manifest.state === "running" || r.manifest.state === "pausing")).length;
  }

  /** Memory of the compute threads (summed over live hosts), or of this thread when none. */
  computeMemory(): ComputeMemory {
    const hosts = [...this.runs.values()].map((r) => r.host?.memory()).filter((m): m is ComputeMemory => !!m);
    if (hosts.length === 0) return tfMemory();
    return {
      backend: hosts[0].backend,
      numTensors: hosts.reduce((a, m) => a + m.numTensors, 0),
      numBytes: hosts.reduce((a, m) => a + m.numBytes, 0),
    };
  }

  // ------------------------------------------------------------ commands

  /** Validates the config, freezes it into a new run folder and queues the run. */
  async start(configPath: string, opts: { runDir?: string } = {}): Promise<string> {
    if (this.closed) throw new Error("the run manager is shutting down");
    const file = path.resolve(configPath);
    try {
      await fs.access(file);
    } catch {
      throw new MissingFileError(file);
    }
    const cfg = await this.engine.loadConfig(file);
    // An explicit backend that cannot load is refused here, not discovered by a failing run;
    // selecting it first also gives the memory estimate the right limit.
    if (cfg.backend !== "auto") await selectBackend(cfg.backend);
    const mem = this.engine.estimateMemory(cfg);
    if (mem.bytes > mem.limitBytes) throw new MemoryLimitError(mem.bytes, mem.limitBytes, mem.detail);
    const id = opts.runDir ? path.basename(path.resolve(opts.runDir)) : newRunId(cfg.name);
    const dir = opts.runDir ? path.resolve(opts.runDir) : path.join(this.runsDir, id);
    if (this.runs.has(id)) throw new Error(`a run with id "${id}" is already open`);
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
      owner: this.owner,
    };
    await createRunDir(dir, manifest, cfg.raw);
    const run: Run = {
      id, dir, manifest, cfg,
      metrics: new MetricsAppender(path.join(dir, METRICS_FILE)),
      writes: Promise.resolve(),
      resumeFromCheckpoint: false,
      lastCheckpointStep: 0,
    };
    this.runs.set(id, run);
    this.log("info", `run ${id} created from ${file}`, id);
    this.queue.push(id);
    await this.setState(run, "queued");
    this.schedule();
    return id;
  }

  async pause(runId: string): Promise<RunSummary> {
    const run = await this.takeRun(runId);
    switch (run.manifest.state) {
      case "queued":
        this.dequeue(run);
        await this.setState(run, "paused");
        break;
      case "running":
        run.request = "pause";
        await this.setState(run, "pausing");
        break;
      case "pausing":
      case "paused":
        break;
      default:
        throw new InvalidStateError(runId, run.manifest.state, "pause");
    }
    return this.summaryOf(run);
  }

  async resume(runId: string): Promise<RunSummary> {
    if (this.closed) throw new Error("the run manager is shutting down");
    const run = await this.takeRun(runId);
    const state = run.manifest.state;
    if (state === "pausing" && !run.leavingLoop) {
      run.request = undefined; // the step boundary has not come yet: just keep training
      await this.setState(run, "running");
    } else if (state === "pausing") {
      run.resumeAfterPause = true; // the checkpoint is being written: continue right after it
    } else if (RESUMABLE.includes(state)) {
      await this.settle(run);
      if (run.task || run.manifest.state !== state) throw new InvalidStateError(runId, run.manifest.state, "resume");
      run.resumeFromCheckpoint = true;
      this.queue.push(run.id);
      await this.setState(run, "queued");
      this.schedule();
    } else if (state !== "running" && state !== "queued") {
      throw new InvalidStateError(runId, state, "resume");
    }
    return this.summaryOf(run);
  }

  async stop(runId: string): Promise<RunSummary> {
    const run = await this.takeRun(runId);
    switch (run.manifest.state) {
      case "queued":
        this.dequeue(run);
        await this.setState(run, "stopped");
        break;
      case "running":
      case "pausing":
        run.request = "stop";
        this.log("info", `run ${run.id} stops at the next step boundary`, run.id);
        break;
      case "paused":
      case "interrupted":
        await this.setState(run, "stopped");
        break;
      case "stopped":
        break;
      case "merging":
      case "evaluating":
        return this.cancel(runId);
      default:
        throw new InvalidStateError(runId, run.manifest.state, "stop");
    }
    return this.summaryOf(run);
  }

  /** Cancels the merge or evaluation in progress and answers once the run is back in its state
   * before (the operation's own request fails with OperationCancelledError). */
  async cancel(runId: string): Promise<RunSummary> {
    const run = await this.takeRun(runId);
    const op = run.operation;
    if (!op || !RUN_COMMAND_STATES.cancel.includes(run.manifest.state)) throw new InvalidStateError(runId, run.manifest.state, "cancel");
    this.log("info", `run ${run.id}: cancelling the ${run.manifest.state === "merging" ? "merge" : "evaluation"}`, run.id);
    op.abort();
    await run.task?.catch(() => {});
    return this.summaryOf(run);
  }

  async merge(runId: string, strategy: "uniform" | "adaptive"): Promise<MergeRecord> {
    return this.withOperation(runId, "merging", `Merging ${runId} (${strategy})`, async (run, host, onProgress, signal) => {
      const out = await host.merge(run.dir, run.cfg, strategy, onProgress, signal);
      const record: MergeRecord = { strategy, modelPath: out.modelPath, ...(out.lambdas ? { lambdas: out.lambdas } : {}), time: new Date().toISOString() };
      await this.appendLines(run, [{ kind: "merge", ...record }]);
      return record;
    });
  }

  async evaluate(runId: string, attacks?: string): Promise<RunEvaluateResult> {
    return this.withOperation(runId, "evaluating", `Evaluating ${runId}`, async (run, host, onProgress, signal) => {
      const mdFile = path.join(run.dir, "report.md");
      const mdBefore = await fs.stat(mdFile).then((s) => s.mtimeMs, () => -1);
      const report = await host.evaluate(run.dir, run.cfg, attacks, onProgress, signal);
      const reportPath = path.join(run.dir, "report.json");
      const records = extractEvaluationRecords(report, run.manifest.step);
      await writeFileAtomic(reportPath, JSON.stringify(report ?? null, null, 2) + "\n");
      const mdAfter = await fs.stat(mdFile).then((s) => s.mtimeMs, () => -1);
      if (mdAfter === mdBefore) await writeFileAtomic(mdFile, renderReportMarkdown(run.manifest, records));
      await this.appendLines(run, [{ kind: "evaluationReport", reportPath, records, time: new Date().toISOString() }]);
      for (const r of records) this.recordEvaluation(run, r);
      return { reportPath, records, report };
    });
  }

  /** Stops taking work, pauses training runs at their next step boundary and waits for them. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of this.queue.splice(0)) {
      const run = this.runs.get(id);
      if (run) await this.setState(run, "paused", "paused because the daemon shut down while the run was queued");
    }
    for (const run of this.runs.values()) {
      if (run.manifest.state === "running" || run.manifest.state === "pausing") {
        run.request = "pause";
        run.requestReason = "paused because the daemon shut down; resume to continue";
        if (run.manifest.state === "running") await this.setState(run, "pausing");
      }
    }
    await Promise.allSettled([...this.runs.values()].map((r) => r.task));
    await Promise.allSettled([...this.runs.values()].map((r) => r.writes));
    await this.endIdleHosts();
    unregisterLiveInstance(this.owner.instance);
  }

  /** Resolves when no run of this manager is training, queued, merging or evaluating. */
  async idle(): Promise<void> {
    for (;;) {
      const tasks = [...this.runs.values()].map((r) => r.task).filter(Boolean);
      if (tasks.length === 0 && this.queue.length === 0) return;
      await Promise.allSettled(tasks);
      await nextTick();
    }
  }

  // ------------------------------------------------------------ internals

  /** Waits for a training loop that already reported its final state to finish winding down
   * (closing its worker), so "paused" followed at once by merge or resume is not refused. */
  private async settle(run: Run): Promise<void> {
    while (run.task && !ACTIVE_RUN_STATES.includes(run.manifest.state)) await run.task.catch(() => {});
  }

  private dequeue(run: Run): void {
    const i = this.queue.indexOf(run.id);
    if (i >= 0) this.queue.splice(i, 1);
  }

  private schedule(): void {
    while (!this.closed && this.queue.length > 0 && this.trainingCount() < this.maxConcurrentRuns) {
      const run = this.runs.get(this.queue.shift()!);
      if (!run || run.manifest.state !== "queued") continue;
      const task = this.train(run);
      run.task = task;
      void task.finally(() => {
        if (run.task === task) run.task = undefined;
        this.schedule();
      });
    }
  }

  private trainingCount(): number {
    return [...this.runs.values()].filter((r) => r.task && r.manifest.state !== "merging" && r.manifest.state !== "evaluating").length;
  }

  private async train(run: Run): Promise<void> {
    const host = this.acquireHost();
    let healthy = true;
    run.host = host;
    try {
      await this.setState(run, "running");
      const opened = await this.openWithProgress(run, host);
      if (run.resumeFromCheckpoint) {
        await this.appendLines(run, [{ kind: "resume", fromStep: opened.step, time: new Date().toISOString() }]);
        this.log("info", `run ${run.id} resumed from step ${opened.step}`, run.id);
      }
      run.manifest.step = opened.step;
      run.manifest.totalSteps = opened.totalSteps;
      run.manifest.backend = host.memory()?.backend ?? run.manifest.backend;
      run.lastCheckpointStep = opened.step;
      await this.persistManifest(run);
      while (run.manifest.step < run.manifest.totalSteps && !run.request) {
        await this.step(run, host);
        await nextTick(); // let pause/stop requests (and signals in the CLI) in between steps
      }
      // From here on a pause or stop can no longer be cancelled (see resume()).
      run.leavingLoop = true;
      if (run.manifest.step >= run.manifest.totalSteps) {
        await this.checkpoint(run, host);
        const adapters = await host.saveAdapters();
        this.log("info", `run ${run.id} completed; wrote ${adapters.length} adapter file(s)`, run.id);
        await this.setState(run, "completed");
      } else {
        await this.checkpoint(run, host);
        await this.setState(run, run.request === "stop" ? "stopped" : "paused", run.requestReason);
      }
    } catch (e) {
      const err = e as Error;
      if (err.name === "NonFiniteLossError") {
        // Train no further on garbage: keep the last good checkpoint and let the user decide.
        run.manifest.step = run.lastCheckpointStep;
        await this.setState(run, "paused", `${err.message}; paused at the last checkpoint (step ${run.lastCheckpointStep})`);
        this.log("warn", `run ${run.id}: ${err.message}`, run.id);
      } else {
        healthy = false;
        this.log("error", `run ${run.id} failed: ${err.message}`, run.id);
        await this.setState(run, "failed", err.message);
      }
    } finally {
      run.request = undefined;
      run.requestReason = undefined;
      run.leavingLoop = false;
      run.host = undefined;
      run.resumeFromCheckpoint = true;
      await this.releaseHost(host, healthy);
      if (run.resumeAfterPause) {
        run.resumeAfterPause = false;
        if (run.manifest.state === "paused" && !this.closed) {
          this.queue.push(run.id); // scheduled when this task ends
          await this.setState(run, "queued");
        }
      }
    }
  }

  /** Opens the session; slow preparation (e.g. clean-pretraining a preset) shows as progress,
   * begun only when the engine first reports so quick opens stay quiet. */
  private async openWithProgress(run: Run, host: ComputeHost): Promise<{ step: number; totalSteps: number }> {
    const token = `${run.id}/prepare/${++this.progressCounter}`;
    let begun = false;
    const onProgress = (p: EngineProgress) => {
      if (!begun) {
        begun = true;
        this.emit({ type: "progress", token, runId: run.id, operation: "prepare", value: { kind: "begin", title: `Preparing ${run.id}: ${p.title}`, cancellable: false } });
      }
      this.emit({ type: "progress", token, runId: run.id, operation: "prepare", value: { kind: "report", message: p.message ?? p.title, percentage: p.percentage } });
    };
    try {
      return await host.openSession(run.dir, run.cfg, run.resumeFromCheckpoint, onProgress);
    } finally {
      if (begun) this.emit({ type: "progress", token, runId: run.id, operation: "prepare", value: { kind: "end" } });
    }
  }

  private async step(run: Run, host: ComputeHost): Promise<void> {
    let nonFinite: TrainEvent | undefined;
    const after = await host.runStep((e) => {
      if (e.kind === "step" && !Number.isFinite(e.loss)) nonFinite = e;
      this.onTrainEvent(run, e);
    });
    if (nonFinite && nonFinite.kind === "step") throw new NonFiniteLossError(nonFinite.step, nonFinite.defense, nonFinite.loss);
    run.manifest.step = after.step;
    if (after.step % Math.max(1, run.cfg.checkpointEvery) === 0) await this.checkpoint(run, host);
  }

  private async checkpoint(run: Run, host: ComputeHost): Promise<void> {
    if (run.manifest.step === run.lastCheckpointStep && run.manifest.step !== 0) return;
    const file = await host.saveCheckpoint();
    run.lastCheckpointStep = run.manifest.step;
    await this.persistManifest(run);
    this.log("debug", `run ${run.id}: checkpoint ${path.relative(run.dir, file)}`, run.id);
    this.emit({ type: "status", ...this.statusOf(run) });
  }

  private onTrainEvent(run: Run, e: TrainEvent): void {
    void this.appendLines(run, [{ ...e, time: new Date().toISOString() } as MetricsLine]);
    switch (e.kind) {
      case "step": {
        const { kind: _k, ...m } = e;
        this.emit({ type: "metrics", runId: run.id, ...m });
        break;
      }
      case "loraNorms": {
        const { kind: _k, ...n } = e;
        this.emit({ type: "loraNorms", runId: run.id, ...n });
        break;
      }
      case "validation": {
        const { kind: _k, ...r } = e;
        this.recordEvaluation(run, r);
        break;
      }
      case "log":
        this.log(e.level, `run ${run.id}: ${e.message}`, run.id);
        break;
    }
  }

  private recordEvaluation(run: Run, r: EvaluationRecord): void {
    if (Number.isFinite(r.worstCaseRobustAccuracy) && !(r.worstCaseRobustAccuracy <= (run.manifest.bestRobustAccuracy ?? -1))) {
      run.manifest.bestRobustAccuracy = r.worstCaseRobustAccuracy;
    }
    this.emit({ type: "evaluation", runId: run.id, ...r });
  }

  /** Merge/evaluate: allowed on finished or paused runs; the run shows `state` meanwhile and
   * returns to where it was; progress in LSP's begin/report/end shape, cancellable through
   * `cancel` (the engine checks the signal between batches / λ steps and writes nothing). */
  private async withOperation<T>(
    runId: string,
    state: "merging" | "evaluating",
    title: string,
    op: (run: Run, host: ComputeHost, onProgress: (p: EngineProgress) => void, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const run = await this.takeRun(runId);
    await this.settle(run);
    const before = run.manifest.state;
    const verb = state === "merging" ? "merge" : "evaluate";
    if (!RUN_COMMAND_STATES[verb].includes(before) || run.task) throw new InvalidStateError(runId, before, verb);
    const back: RunState = before === "interrupted" ? "stopped" : before;
    const backMessage = run.manifest.message;
    const token = `${run.id}/${state}/${++this.progressCounter}`;
    const operation = verb;
    const host = this.acquireHost();
    const controller = new AbortController();
    run.operation = controller;
    let healthy = true;
    const work = (async () => {
      await this.setState(run, state);
      this.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "begin", title, cancellable: true } });
      try {
        const result = await op(run, host, (p) =>
          this.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "report", message: p.message ?? p.title, percentage: p.percentage } }),
        controller.signal);
        this.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "end", message: "done" } });
        await this.setState(run, back, backMessage);
        return result;
      } catch (e) {
        if (controller.signal.aborted) {
          // The engine stopped at a batch / λ-step boundary before writing: the worker is sound.
          this.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "end", message: "cancelled" } });
          await this.setState(run, back, backMessage);
          throw new OperationCancelledError(run.id, state === "merging" ? "the merge" : "the evaluation");
        }
        healthy = false;
        const msg = `${state === "merging" ? "merge" : "evaluation"} failed: ${(e as Error).message}`;
        this.emit({ type: "progress", token, runId: run.id, operation, value: { kind: "end", message: msg } });
        await this.setState(run, back, msg);
        throw e;
      } finally {
        if (run.operation === controller) run.operation = undefined;
        await this.releaseHost(host, healthy);
      }
    })();
    run.task = work;
    try {
      return await work;
    } finally {
      if (run.task === work) run.task = undefined;
    }
  }
}
