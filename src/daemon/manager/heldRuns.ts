// The runs this manager holds: adopted from their folder (taking the run lock, src/daemon/runLock.ts)
// when a command first needs one, kept while anything works on them, released after.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ACTIVE_RUN_STATES, isValidRunId, RUN_ID_RULE } from "../../protocol/runs";
import type { ResolvedRunConfig } from "../compute/contract";
import { RunBusyError, UnknownRunError } from "../errors";
import { METRICS_FILE, MetricsAppender, effectiveManifest, liveInstancesView, readManifest, removeStaleTempFiles, type RunManifest, type RunOwner } from "../runStore";
import { RunLock, describeHolder, type LockHolder } from "../runLock";
import { assertNoSymlinks, resolveRunDir } from "../runPaths";
import type { LiveRun } from "./liveRun";
import type { RunRecorder } from "./runRecorder";

export interface TakeOptions {
  /** Take the run even from a live owner (the user asked to take it over). */
  force?: boolean;
}

export interface HeldRunsDeps {
  /** `<workspace>/.hyperat/runs` (resolved). */
  runsDir: string;
  owner: RunOwner;
  recorder: RunRecorder;
  loadFrozenConfig: (dir: string) => Promise<ResolvedRunConfig>;
  isClosed: () => boolean;
  /** Whether the run waits in the scheduler's queue (a queued run keeps its lock). */
  isQueued: (runId: string) => boolean;
}

export class HeldRuns {
  readonly runs = new Map<string, LiveRun>();
  /** Adoptions in progress, so two requests for one run share one lock. */
  private readonly adopting = new Map<string, Promise<LiveRun>>();
  /** Run folders outside runsDir this manager worked on (`train --run-dir`, `resume DIR`), so
   * list() still shows them after their lock is released. */
  readonly outsideDirs = new Map<string, string>();
  /** Lock releases under way (shutdown waits for them). */
  private readonly releasing = new Set<Promise<void>>();

  constructor(private readonly deps: HeldRunsDeps) {}

  /** Takes the lock of a new run folder before its first write (a second `train --run-dir` gets RunBusy). */
  lockNew(dir: string, id: string): Promise<RunLock> {
    return RunLock.acquire(dir, id, { instance: this.deps.owner.instance, liveInstances: liveInstancesView(), onLost: (by) => this.onLockLost(id, by) });
  }

  /** Shutdown: gives every lock back and forgets the runs. */
  async releaseAll(): Promise<void> {
    await Promise.allSettled([...this.runs.values()].map((r) => r.lock.release()));
    this.runs.clear();
    await Promise.allSettled([...this.releasing]);
  }

  /** Loads the run in `dir` (e.g. `hyperat resume DIR`) and takes its lock; returns its id. */
  async adopt(dir: string, opts: TakeOptions = {}): Promise<string> {
    const real = await fs.realpath(path.resolve(dir)).catch(() => path.resolve(dir));
    const id = path.basename(real);
    if (!isValidRunId(id)) throw new Error(`${real}: the folder name "${id}" is not a run id (${RUN_ID_RULE})`);
    return (await this.adoptDir(real, undefined, opts)).id;
  }

  /** A run this manager controls: already live, or adopted from its folder (taking its lock). */
  private async takeRun(runId: string, opts: TakeOptions = {}): Promise<LiveRun> {
    const live = this.runs.get(runId);
    if (live) return live;
    return this.adoptDir(await resolveRunDir(this.deps.runsDir, runId), runId, opts);
  }

  /** Runs `fn` on the run, keeping its lock while it works; releases the lock after if the run
   * has nothing left to do here. */
  async withRun<T>(runId: string, fn: (run: LiveRun) => Promise<T>, opts: TakeOptions = {}): Promise<T> {
    // Claim a live run synchronously: a release in progress (releaseIfIdle after its await)
    // must see this user, or it forgets the run and frees its lock while we work on it.
    const live = this.runs.get(runId);
    if (live) live.users++;
    let run: LiveRun;
    try {
      run = await this.takeRun(runId, opts);
    } catch (e) {
      if (live) live.users--;
      throw e;
    }
    if (run !== live) {
      if (live) {
        live.users--;
        void this.releaseIfIdle(live);
      }
      run.users++;
    }
    try {
      return await fn(run);
    } finally {
      run.users--;
      await this.releaseIfIdle(run);
    }
  }

  private async adoptDir(dir: string, requestedId: string | undefined, opts: TakeOptions): Promise<LiveRun> {
    const id = requestedId ?? path.basename(dir);
    const existing = this.runs.get(id);
    if (existing) return existing;
    // Two requests may adopt the same run at once; they share one adoption (and one lock).
    const pending = this.adopting.get(id);
    if (pending) return pending;
    const adoption = this.lockAndLoad(dir, id, requestedId !== undefined, opts);
    this.adopting.set(id, adoption);
    try {
      return await adoption;
    } finally {
      this.adopting.delete(id);
    }
  }

  private async lockAndLoad(dir: string, id: string, byId: boolean, opts: TakeOptions): Promise<LiveRun> {
    if (this.deps.isClosed()) throw new Error("the run manager is shutting down");
    await assertNoSymlinks(dir);
    let run: LiveRun | undefined;
    const lock = await RunLock.acquire(dir, id, {
      instance: this.deps.owner.instance,
      force: opts.force,
      liveInstances: liveInstancesView(),
      onLost: (by) => this.onLockLost(id, by),
    });
    try {
      let manifest: RunManifest;
      try {
        manifest = await readManifest(dir);
      } catch (e) {
        if (byId) throw new UnknownRunError(id, (e as Error).message);
        throw e;
      }
      const shown = effectiveManifest(manifest);
      // The lock is ours, yet run.json names a live owner: a process from before run locks.
      if (ACTIVE_RUN_STATES.includes(shown.state) && !opts.force) {
        throw new RunBusyError(id, manifest.owner?.pid ?? -1, `pid ${manifest.owner?.pid} per run.json (state ${manifest.state})`);
      }
      const state = ACTIVE_RUN_STATES.includes(shown.state) ? "interrupted" : shown.state;
      // Nobody else writes to the run while we hold its lock: leftovers of a killed writer go.
      const removed = await removeStaleTempFiles(dir);
      if (removed.length) this.deps.recorder.log("info", `run ${id}: removed ${removed.length} temp file(s) of writes a killed process cut short`, id);
      const cfg = await this.deps.loadFrozenConfig(dir);
      run = {
        id,
        dir,
        manifest: { ...shown, state },
        cfg,
        metrics: new MetricsAppender(path.join(dir, METRICS_FILE)),
        writes: Promise.resolve(),
        resumeFromCheckpoint: true,
        lastCheckpointStep: manifest.step,
        lock,
        users: 0,
      };
      this.runs.set(id, run);
      if (shown.operation?.interrupted && manifest.state !== state) {
        // A merge/evaluation was killed: record that the run is back where it was.
        await this.deps.recorder.setState(run, state, shown.message);
      }
      if (opts.force && ACTIVE_RUN_STATES.includes(shown.state)) this.deps.recorder.log("warn", `run ${id}: taken over from ${describeOwner(manifest)}`, id);
      return run;
    } catch (e) {
      if (run) this.runs.delete(id);
      await lock.release();
      throw e;
    }
  }

  /** Another process forced the run away from us: stop working on it, write nothing more. */
  onLockLost(id: string, by: LockHolder | undefined): void {
    const run = this.runs.get(id);
    if (!run) return;
    run.request = "pause";
    this.deps.recorder.log("error", `run ${id} was taken over by ${describeHolder(by)}; this process stops working on it and writes nothing more to it`, id);
    void this.releaseIfIdle(run);
  }

  /** Gives the lock back (and forgets the run) once nothing here works on it any more. */
  async releaseIfIdle(run: LiveRun): Promise<void> {
    const busy = () => run.users > 0 || !!run.task || this.deps.isQueued(run.id) || (!run.lock.lost && ACTIVE_RUN_STATES.includes(run.manifest.state));
    if (busy() || this.runs.get(run.id) !== run) return;
    await run.writes;
    if (busy() || this.runs.get(run.id) !== run) return;
    this.runs.delete(run.id);
    if (path.dirname(run.dir) !== this.deps.runsDir) this.outsideDirs.set(run.id, run.dir);
    const released = run.lock.release();
    this.releasing.add(released);
    await released;
    this.releasing.delete(released);
  }
}

function describeOwner(m: RunManifest): string {
  return m.owner ? `pid ${m.owner.pid}${m.owner.hostname ? ` on ${m.owner.hostname}` : ""} (since ${m.owner.startedAt})` : "an unknown process";
}
