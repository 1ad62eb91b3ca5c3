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
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type { CheckpointRef, MergeRecord, RunDetail, RunSummary } from "../protocol/runs";
import type { ConfigCheckProblem, RunEvaluateResult } from "../protocol/methods";
import type { ModelSelector } from "../protocol/modelSelector";
import type { RunEngine } from "./compute/contract";
import type { ComputeMemory } from "./compute/inProcess";
import { tfMemory } from "./compute/inProcess";
import { activeBackend, knownBackend } from "../core/backend/select";
import { loadEngine, type EngineModule } from "./compute/loader";
import { UnknownRunError } from "./errors";
import { RunOwner, listRunSummaries, readRunDetail, readRunSummary, registerLiveInstance } from "./runStore";
import { resolveRunDir } from "./runPaths";
import { currentProcess } from "./processIdentity";

import type { LogLevel } from "./logger";
import { ProgressTokens, type ManagerEvent } from "./manager/events";
import type { LiveRun } from "./manager/liveRun";
import { RunRecorder } from "./manager/runRecorder";
import { HostPool } from "./manager/hostPool";
import { RunScheduler } from "./manager/runScheduler";
import { TrainingLoop } from "./manager/trainingLoop";
import { RunOperations } from "./manager/runOperations";
import { HeldRuns, type TakeOptions } from "./manager/heldRuns";
import { RunLifecycle } from "./manager/runLifecycle";
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
  private readonly lifecycle: RunLifecycle;
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
    this.lifecycle = new RunLifecycle({
      runsDir: this.runsDir,
      owner: this.owner,
      recorder: this.recorder,
      held: this.held,
      scheduler: this.scheduler,
      hosts: this.hosts,
      engine: () => this.engine,
      isClosed,
      log: (level, message, runId) => this.log(level, message, runId),
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

  // ------------------------------------------------------------ commands (manager/runLifecycle.ts)

  /** Every problem the up-front pass finds in a document's text (`hyperat/config.check`). */
  async checkConfigText(text: string, configPath: string): Promise<ConfigCheckProblem[]> {
    if (!this.engine.checkConfigText) throw new Error("this engine has no up-front config pass to run on a document");
    return this.engine.checkConfigText(text, path.resolve(configPath));
  }

  /** Validates the config, freezes it into a new run folder and queues the run. */
  start(configPath: string, opts: { runDir?: string } = {}): Promise<string> {
    return this.lifecycle.start(configPath, opts);
  }

  pause(runId: string): Promise<RunSummary> {
    return this.withRun(runId, (run) => this.lifecycle.pause(run));
  }

  /** Queues a resumable run again. `force` takes it over from a live owner first (RunBusy
   * otherwise): that owner finds at its next heartbeat that it lost the run and stops writing. */
  async resume(runId: string, opts: TakeOptions = {}): Promise<RunSummary> {
    if (this.closed) throw new Error("the run manager is shutting down");
    return this.withRun(runId, (run) => this.lifecycle.resume(run), opts);
  }

  stop(runId: string): Promise<RunSummary> {
    return this.withRun(runId, (run) => this.lifecycle.stop(run));
  }

  /** Cancels the merge or evaluation in progress; answers once the run is back in its state before. */
  cancel(runId: string): Promise<RunSummary> {
    return this.withRun(runId, (run) => this.lifecycle.cancel(run));
  }

  merge(runId: string, strategy: MergeStrategy, from: CheckpointRef = "latest"): Promise<MergeRecord> {
    return this.withRun(runId, (run) => this.operations.merge(run, strategy, from));
  }

  /** Every model of the run, or only `model` ("Evaluate This Model"; runOperations.ts). */
  evaluate(runId: string, attacks?: string, from: CheckpointRef = "latest", model?: ModelSelector): Promise<RunEvaluateResult> {
    return this.withRun(runId, (run) => this.operations.evaluate(run, attacks, from, model));
  }

  /** Stops taking work, pauses training runs at their next step boundary and waits for them. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lifecycle.shutdown();
  }

  /** Resolves when no run of this manager is training, queued, merging or evaluating. */
  idle(): Promise<void> {
    return this.lifecycle.idle();
  }
}

