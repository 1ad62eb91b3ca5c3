// RunManager: the one code path for a run, shared by the daemon (over JSON-RPC) and the CLI
// (in-process). A façade: it checks each command against the state table and hands the work to
// its parts in manager/ — heldRuns (adoption and run locks), runRecorder (state, run.json and
// metrics.jsonl), hostPool (compute workers), runScheduler (the queue), trainingLoop and
// runOperations (merge, evaluate). The tensors live behind a ComputeHost.
//
//   queued → running → pausing → paused        (checkpoint at the step boundary)
//                    → stopped                  (checkpoint, resumable)
//                    → completed                (checkpoint + adapters)
//                    → paused (NaN loss)        (last good checkpoint kept)
//                    → failed
//   paused|stopped|interrupted|failed → queued (resume);  paused|stopped|completed|interrupted → merging|evaluating → back
//   (which command is accepted in which state: src/protocol/runStates.ts, the table the
//   extension's menus and the dashboard's buttons derive from too)
import type { MergeStrategy } from "../core/config/types";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { isValidRunId, RUN_ID_RULE, type CheckpointRef, type MergeRecord, type RunDetail, type RunSummary } from "../protocol/runs";
import type { ConfigCheckProblem, RunEvaluateResult } from "../protocol/methods";
import type { ModelSelector } from "../protocol/modelSelector";
import type { ResolvedRunConfig, RunEngine } from "./compute/contract";
import type { ComputeMemory } from "./compute/inProcess";
import { tfMemory } from "./compute/inProcess";
import { activeBackend, knownBackend, probeBackend } from "../core/backend/select";
import { loadEngine, type EngineModule } from "./compute/loader";
import { runCommandAccepted, runCommandApplies, type RunCommand } from "../protocol/runStates";
import { InvalidStateError, MemoryLimitError, MissingFileError, UnknownRunError } from "./errors";
import {
  MANIFEST_VERSION,
  MetricsAppender,
  RunManifest,
  RunOwner,
  createRunDir,
  listRunSummaries,
  newRunId,
  readRunDetail,
  readRunSummary,
  registerLiveInstance,
  unregisterLiveInstance,
  METRICS_FILE,
} from "./runStore";
import { assertNoSymlinks, resolveRunDir } from "./runPaths";
import { currentProcess } from "./processIdentity";

import type { LogLevel } from "./logger";
import { ProgressTokens, type ManagerEvent } from "./manager/events";
import { settle, type LiveRun } from "./manager/liveRun";
import { RunRecorder } from "./manager/runRecorder";
import { HostPool } from "./manager/hostPool";
import { RunScheduler } from "./manager/runScheduler";
import { TrainingLoop } from "./manager/trainingLoop";
import { RunOperations } from "./manager/runOperations";
import { HeldRuns, type TakeOptions } from "./manager/heldRuns";
export type { LogLevel };

export type { ManagerEvent };

export interface RunManagerOptions {
  /** `<workspace>/.hyperat/runs` */
  runsDir: string;
  /** Engine module for tests (see compute/loader.ts); the HyperAT engine when undefined. */
  engineModule?: EngineModule;
  /** Compute each run in a worker thread (daemon) or in this thread (CLI, unit tests). Default true. */
  useWorkers?: boolean;
  /** Runs that train at the same time; the rest wait as `queued`. Default 1. */
  maxConcurrentRuns?: number;
  /** How long a finished worker stays warm for the next operation (merge after training, ...).
   * Idle workers are ended after this: a wasm heap never shrinks while its thread lives. Default 30 s. */
  idleWorkerMs?: number;
}

type Run = LiveRun;

export type { TakeOptions };

const nextTick = () => new Promise<void>((r) => setImmediate(r));

export class RunManager {
  readonly runsDir: string;
  readonly useWorkers: boolean;
  readonly maxConcurrentRuns: number;
  private readonly engineModule: EngineModule;
  private engineInstance?: RunEngine;
  private readonly owner: RunOwner;
  private readonly recorder: RunRecorder;
  private readonly held: HeldRuns;
  /** The runs held (manager/heldRuns.ts), by id. */
  private readonly runs: Map<string, Run>;
  private readonly scheduler: RunScheduler;
  private readonly training: TrainingLoop;
  private readonly operations: RunOperations;
  private readonly tokens = new ProgressTokens();
  private readonly listeners = new Set<(e: ManagerEvent) => void>();
  private readonly hosts: HostPool;
  private closed = false;

  constructor(opts: RunManagerOptions) {
    this.runsDir = path.resolve(opts.runsDir);
    this.engineModule = opts.engineModule;
    this.useWorkers = opts.useWorkers ?? true;
    this.maxConcurrentRuns = Math.max(1, opts.maxConcurrentRuns ?? 1);
    const me = currentProcess();
    this.owner = {
      pid: me.pid, instance: randomBytes(8).toString("hex"), startedAt: new Date().toISOString(),
      startTime: me.startTime, bootId: me.bootId, pidNamespace: me.pidNamespace, hostname: me.hostname,
    };
    registerLiveInstance(this.owner.instance);
    const isClosed = () => this.closed;
    this.recorder = new RunRecorder(this.owner, (e) => this.emit(e));
    this.held = new HeldRuns({
      runsDir: this.runsDir,
      owner: this.owner,
      recorder: this.recorder,
      loadFrozenConfig: (dir) => this.engine.loadFrozenConfig(dir),
      isClosed,
      isQueued: (id) => this.scheduler.has(id),
    });
    this.runs = this.held.runs;
    this.hosts = new HostPool({ engineModule: opts.engineModule, useWorkers: this.useWorkers, idleWorkerMs: opts.idleWorkerMs ?? 30_000, isClosed });
    this.training = new TrainingLoop({
      recorder: this.recorder,
      hosts: this.hosts,
      tokens: this.tokens,
      emit: (e) => this.emit(e),
      isClosed,
      requeue: (run) => this.scheduler.enqueue(run),
    });
    this.operations = new RunOperations({ recorder: this.recorder, hosts: this.hosts, tokens: this.tokens, emit: (e) => this.emit(e) });
    this.scheduler = new RunScheduler({
      maxConcurrentRuns: this.maxConcurrentRuns,
      runs: this.runs,
      isClosed,
      train: (run) => this.training.train(run),
      onTrainingEnd: (run) => void this.held.releaseIfIdle(run),
    });
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
    this.recorder.log(level, message, runId);
  }

  /** Loads the run in `dir` (e.g. `hyperat resume DIR`) and takes its lock; returns its id. */
  async adopt(dir: string, opts: TakeOptions = {}): Promise<string> {
    return this.held.adopt(dir, opts);
  }

  private withRun<T>(runId: string, fn: (run: Run) => Promise<T>, opts: TakeOptions = {}): Promise<T> {
    return this.held.withRun(runId, fn, opts);
  }

  // ------------------------------------------------------------ queries

  async list(): Promise<RunSummary[]> {
    const onDisk = await listRunSummaries(this.runsDir, (d, e) => this.log("warn", `skipping unreadable run folder ${d}: ${e.message}`));
    const byId = new Map(onDisk.map((s) => [s.id, s]));
    for (const [id, dir] of this.held.outsideDirs) {
      if (!byId.has(id)) await readRunSummary(dir).then((s) => byId.set(id, s), () => {});
    }
    // The live manifest is newer than run.json; the annotations come only from the folder.
    for (const run of this.runs.values()) {
      const disk = byId.get(run.id);
      byId.set(run.id, { ...this.recorder.summaryOf(run), ...(disk?.annotations ? { annotations: disk.annotations } : {}), ...(disk?.annotationsProblem ? { annotationsProblem: disk.annotationsProblem } : {}) });
    }
    return [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  }

  async get(runId: string): Promise<RunDetail> {
    const live = this.runs.get(runId);
    if (live) {
      await live.writes;
      return { ...(await readRunDetail(live.dir)), ...this.recorder.summaryOf(live) };
    }
    const dir = await resolveRunDir(this.runsDir, runId);
    try {
      return await readRunDetail(dir);
    } catch (e) {
      throw new UnknownRunError(runId, (e as Error).message);
    }
  }

  /** Runs whose training loop is in progress. */
  activeRunCount(): number {
    return [...this.runs.values()].filter((r) => r.host && (r.manifest.state === "running" || r.manifest.state === "pausing")).length;
  }

  /** Memory of the compute threads (summed over live hosts), or of this thread when none. */
  computeMemory(): ComputeMemory {
    const hosts = [...this.runs.values()].map((r) => r.host?.memory()).filter((m): m is ComputeMemory => !!m);
    // A main thread that only probed its backend (webgpu) holds no tensors and must not start one.
    if (hosts.length === 0) return activeBackend() ? tfMemory() : { backend: knownBackend()?.backend ?? "none", numTensors: 0, numBytes: 0 };
    return {
      backend: hosts[0].backend,
      numTensors: hosts.reduce((a, m) => a + m.numTensors, 0),
      numBytes: hosts.reduce((a, m) => a + m.numBytes, 0),
    };
  }

  // ------------------------------------------------------------ commands

  /** An explicit backend that cannot load is refused here, not discovered by a failing run;
   * selecting it first also gives the memory estimate the right limit. */
  private async assertFits(cfg: ResolvedRunConfig): Promise<void> {
    if (cfg.backend !== "auto") await probeBackend(cfg.backend);
    const mem = await this.engine.estimateMemory(cfg);
    if (!mem.fits) throw new MemoryLimitError(mem.bytes, mem.limitBytes, mem.detail, mem.lines ? "" : undefined);
  }

  /** Every problem the up-front pass finds in a document's text (`hyperat/config.check`). */
  async checkConfigText(text: string, configPath: string): Promise<ConfigCheckProblem[]> {
    if (!this.engine.checkConfigText) throw new Error("this engine has no up-front config pass to run on a document");
    return this.engine.checkConfigText(text, path.resolve(configPath));
  }

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
    await this.assertFits(cfg);
    const id = opts.runDir ? path.basename(path.resolve(opts.runDir)) : newRunId(cfg.name);
    if (!isValidRunId(id)) throw new Error(`--run-dir ${opts.runDir}: the folder name "${id}" is not a run id (${RUN_ID_RULE})`);
    const dir = opts.runDir ? path.resolve(opts.runDir) : path.join(this.runsDir, id);
    if (this.runs.has(id)) throw new Error(`a run with id "${id}" is already open`);
    await fs.mkdir(dir, { recursive: true });
    if (!opts.runDir) await resolveRunDir(this.runsDir, id); // the new folder is a real one inside runsDir
    await assertNoSymlinks(dir);
    // The lock comes before the first write: a second `train --run-dir` on the folder gets RunBusy.
    const lock = await this.held.lockNew(dir, id);
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

  async pause(runId: string): Promise<RunSummary> {
    return this.withRun(runId, (run) => this.pauseRun(run));
  }

  /** Refuses a command the shared table (src/protocol/runStates.ts) does not accept in the run's state. */
  private assertAccepted(run: Run, command: RunCommand): void {
    if (!runCommandAccepted(command, run.manifest.state)) throw new InvalidStateError(run.id, run.manifest.state, command);
  }

  private async pauseRun(run: Run): Promise<RunSummary> {
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

  /** Queues a resumable run again. `force` takes it over from a live owner first (RunBusy
   * otherwise): that owner finds at its next heartbeat that it lost the run and stops writing. */
  async resume(runId: string, opts: TakeOptions = {}): Promise<RunSummary> {
    if (this.closed) throw new Error("the run manager is shutting down");
    return this.withRun(runId, (run) => this.resumeRun(run), opts);
  }

  private async resumeRun(run: Run): Promise<RunSummary> {
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
      await this.engine.recheckFrozenConfig?.(run.dir);
      await this.assertFits(run.cfg);
      run.resumeFromCheckpoint = true;
      this.scheduler.enqueue(run);
      await this.recorder.setState(run, "queued");
      this.scheduler.schedule();
    } // running, queued: already resumed
    return this.recorder.summaryOf(run);
  }

  async stop(runId: string): Promise<RunSummary> {
    return this.withRun(runId, (run) => this.stopRun(run));
  }

  private async stopRun(run: Run): Promise<RunSummary> {
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
        return this.cancel(run.id);
      // stopped: already there
    }
    return this.recorder.summaryOf(run);
  }

  /** Cancels the merge or evaluation in progress and answers once the run is back in its state
   * before (the operation's own request fails with OperationCancelledError). */
  async cancel(runId: string): Promise<RunSummary> {
    return this.withRun(runId, async (run) => {
      const op = run.operation;
      if (!op || !runCommandAccepted("cancel", run.manifest.state)) throw new InvalidStateError(runId, run.manifest.state, "cancel");
      this.log("info", `run ${run.id}: cancelling the ${run.manifest.state === "merging" ? "merge" : "evaluation"}`, run.id);
      op.abort();
      await run.task?.catch(() => {});
      return this.recorder.summaryOf(run);
    });
  }

  async merge(runId: string, strategy: MergeStrategy, from: CheckpointRef = "latest"): Promise<MergeRecord> {
    return this.withRun(runId, (run) => this.operations.merge(run, strategy, from));
  }

  /** Every model of the run, or only `model` ("Evaluate This Model"; runOperations.ts). */
  async evaluate(runId: string, attacks?: string, from: CheckpointRef = "latest", model?: ModelSelector): Promise<RunEvaluateResult> {
    return this.withRun(runId, (run) => this.operations.evaluate(run, attacks, from, model));
  }

  /** Stops taking work, pauses training runs at their next step boundary and waits for them. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
    await this.hosts.endIdle();
    await this.held.releaseAll();
    unregisterLiveInstance(this.owner.instance);
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

