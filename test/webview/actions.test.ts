import { test } from "node:test";
import assert from "node:assert/strict";
import { ACTION_STATES, actionEnabled } from "../../webview/actions";
import { RUN_COMMAND_STATES } from "../../src/protocol/runStates";

test("dashboard buttons use the shared run-command state table", () => {
  for (const [action, states] of Object.entries(ACTION_STATES)) {
    assert.deepEqual(states, RUN_COMMAND_STATES[action as keyof typeof RUN_COMMAND_STATES], action);
  }
});

test("actionEnabled", () => {
  assert.equal(actionEnabled("pause", "running"), true);
  assert.equal(actionEnabled("pause", "paused"), false);
  assert.equal(actionEnabled("merge", "running"), false);
  assert.equal(actionEnabled("merge", "interrupted"), true);
  assert.equal(actionEnabled("cancel", "evaluating"), true);
  assert.equal(actionEnabled("cancel", "completed"), false);
  assert.equal(actionEnabled("openReport", "running"), true);
});
