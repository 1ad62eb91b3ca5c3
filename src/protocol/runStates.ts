// Which run commands apply in which run state: the one table the daemon's state machine
// (src/daemon/runManager.ts), the extension's commands and tree menus (package.json `when`
// clauses, checked by test/protocol/runStates.test.ts) and the dashboard buttons all derive from.
// Plain data, no imports beyond types: the webview bundle uses it too.
import type { RunState } from "./runs";

export type RunCommand = "pause" | "resume" | "stop" | "cancel" | "merge" | "evaluate" | "remove" | "export" | "open";

export const RUN_COMMAND_STATES: Readonly<Record<RunCommand, readonly RunState[]>> = {
  pause: ["running", "queued"],
  /** From the latest checkpoint; an interrupted run (its owner died) resumes like a stopped one. */
  resume: ["paused", "stopped", "failed", "interrupted"],
  /** While merging or evaluating, stop cancels the operation (the run returns to its state before). */
  stop: ["running", "queued", "pausing", "paused", "merging", "evaluating"],
  /** Cancels a merge or an evaluation in progress; nothing half-written is left. */
  cancel: ["merging", "evaluating"],
  /** Needs saved adapters or a checkpoint: any state in which no training loop is running. */
  merge: ["paused", "completed", "stopped", "interrupted"],
  evaluate: ["paused", "completed", "stopped", "interrupted"],
  /** Delete Run / Archive Run: only a run no process works on (src/extension/runRemoval.ts). */
  remove: ["paused", "completed", "failed", "stopped", "interrupted"],
  /** Export… of a model row (src/extension/modelExport.ts): only while no process writes the run's
   * model files (training writes adapters at its end, a merge its folder, an evaluation the model cards). */
  export: ["paused", "completed", "failed", "stopped", "interrupted"],
  open: ["queued", "running", "pausing", "paused", "merging", "evaluating", "completed", "failed", "stopped", "interrupted"],
};

/** States in which the daemon accepts a command the views do not offer there: the run is already
 * where the command leads or on its way (a repeated click, a second window, a script). */
export const RUN_COMMAND_ALSO_ACCEPTED: Readonly<Partial<Record<RunCommand, readonly RunState[]>>> = {
  pause: ["pausing", "paused"],
  /** Resuming a run that is still pausing cancels the pause; a running or queued run already is resumed. */
  resume: ["pausing", "running", "queued"],
  /** An interrupted run is not training: stopping it only records it as stopped. */
  stop: ["interrupted", "stopped"],
};

/** Whether the daemon accepts `command` on a run in `state` (src/daemon/runManager.ts refuses
 * the rest with InvalidStateError). */
export function runCommandAccepted(command: RunCommand, state: RunState): boolean {
  return runCommandApplies(command, state) || (RUN_COMMAND_ALSO_ACCEPTED[command]?.includes(state) ?? false);
}

/** Whether `command` applies to a run in `state`. */
export function runCommandApplies(command: RunCommand, state: RunState): boolean {
  return RUN_COMMAND_STATES[command].includes(state);
}
