// Which dashboard buttons apply in which run state, so the page disables the others: the shared
// run-command table (src/protocol/runStates.ts), which has no runtime imports the bundle cannot load.
import type { RunState } from "../src/protocol/runs";
import { RUN_COMMAND_STATES } from "../src/protocol/runStates";
import type { WebviewAction } from "../src/protocol/webview";

export const ACTION_STATES: Partial<Record<WebviewAction, readonly RunState[]>> = {
  pause: RUN_COMMAND_STATES.pause,
  resume: RUN_COMMAND_STATES.resume,
  stop: RUN_COMMAND_STATES.stop,
  cancel: RUN_COMMAND_STATES.cancel,
  merge: RUN_COMMAND_STATES.merge,
  evaluate: RUN_COMMAND_STATES.evaluate,
};

/** Actions without an entry (open report, reveal folder) are always enabled. */
export function actionEnabled(action: WebviewAction, state: RunState): boolean {
  const states = ACTION_STATES[action];
  return !states || states.includes(state);
}
