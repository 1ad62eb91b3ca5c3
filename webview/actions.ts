// Which dashboard buttons apply in which run state, so the page disables the others. The same
// sets as the extension's RUN_COMMAND_STATES (test/webview/actions.test.ts keeps them equal);
// the webview bundle does not import extension code.
import type { RunState } from "../src/protocol/runs";
import type { WebviewAction } from "../src/protocol/webview";

export const ACTION_STATES: Partial<Record<WebviewAction, readonly RunState[]>> = {
  pause: ["running", "queued"],
  resume: ["paused", "stopped", "failed", "interrupted"],
  stop: ["running", "queued", "pausing", "paused"],
  merge: ["paused", "completed", "stopped"],
  evaluate: ["paused", "completed", "stopped"],
};

/** Actions without an entry (open report, reveal folder) are always enabled. */
export function actionEnabled(action: WebviewAction, state: RunState): boolean {
  const states = ACTION_STATES[action];
  return !states || states.includes(state);
}
