// A run this process holds the lock of, as the manager's parts share it (src/daemon/runManager.ts).
import { ACTIVE_RUN_STATES } from "../../protocol/runs";
import type { ResolvedRunConfig } from "../compute/contract";
import type { ComputeHost } from "../compute/inProcess";
import type { MetricsAppender, RunManifest } from "../runStore";
import type { RunLock } from "../runLock";

export interface LiveRun {
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
  /** The run folder's lock (runLock.ts): a run is in the manager's map exactly while it holds it. */
  lock: RunLock;
  /** Commands working on the run right now; the lock is kept while any is. */
  users: number;
}

/** Waits for a training loop that already reported its final state to finish winding down
 * (closing its worker), so "paused" followed at once by merge or resume is not refused. */
export async function settle(run: LiveRun): Promise<void> {
  while (run.task && !ACTIVE_RUN_STATES.includes(run.manifest.state)) await run.task.catch(() => {});
}
