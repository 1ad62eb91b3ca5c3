// The status bar item's text, pure for tests: daemon health and backend, the active run's phase
// (src/protocol/runPhase.ts: "pretraining 12/60", "validating at step 50", ...), its best, and a
// warning icon when an early check fired (runWatch.ts).
import type { DaemonStatusParams } from "../protocol";
import { describeBest, type RunSummary } from "../protocol/runs";
import { phaseText, runPhase, type PhaseOperation } from "../protocol/runPhase";

export interface StatusDaemon {
  running: boolean;
  /** Spawned, not yet initialized. */
  starting?: boolean;
  backend?: string;
  health?: DaemonStatusParams["health"];
}

export interface StatusActive extends Pick<RunSummary, "id" | "step" | "totalSteps" | "best" | "state"> {
  name?: string;
  operation?: PhaseOperation;
  warnings?: readonly string[];
}

/** Pure text of the item, for tests. */
export function statusText(daemon: StatusDaemon, active?: StatusActive): string {
  if (!daemon.running) return daemon.starting ? "$(loading~spin) HyperAT daemon starting" : "$(circle-slash) HyperAT";
  const icon = daemon.health === "error" ? "$(error)"
    : daemon.health === "warning" || active?.warnings?.length ? "$(warning)"
    : active && active.state !== "paused" && active.state !== "queued" ? "$(sync~spin)" : "$(shield)";
  const best = active?.best ? ` · best ${describeBest(active.best)}` : "";
  const run = active ? ` · ${active.name ?? active.id} ${phaseText(runPhase(active, active.operation))}${best}` : "";
  return `${icon} HyperAT ${daemon.backend ?? ""}${run}`.replace(/\s+·/g, " ·").trimEnd();
}
