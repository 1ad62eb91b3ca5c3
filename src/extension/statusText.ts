// The status bar item's text, pure for tests: daemon health and backend, active run progress.
import type { DaemonStatusParams } from "../protocol";
import { describeBest, type RunSummary } from "../protocol/runs";

/** Pure text of the item, for tests. */
export function statusText(daemon: { running: boolean; backend?: string; health?: DaemonStatusParams["health"] }, active?: Pick<RunSummary, "id" | "step" | "totalSteps" | "best" | "state">): string {
  if (!daemon.running) return "$(circle-slash) HyperAT";
  const icon = daemon.health === "error" ? "$(error)" : daemon.health === "warning" ? "$(warning)" : active?.state === "running" ? "$(sync~spin)" : "$(shield)";
  const run = active ? ` · ${active.id} ${active.step}/${active.totalSteps}${active.best ? ` · best ${describeBest(active.best)}` : ""}` : "";
  return `${icon} HyperAT ${daemon.backend ?? ""}${run}`.replace(/\s+·/g, " ·").trimEnd();
}
