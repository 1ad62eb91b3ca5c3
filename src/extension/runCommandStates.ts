// Which run states each run command applies to. The Runs tree's context menus in package.json
// use the same sets (test/extension/runCommandStates.test.ts keeps them in step), and commands
// invoked from the palette offer only runs in these states.
import type { RunState } from "../protocol/runs";

export const RUN_COMMAND_STATES: Record<"pause" | "resume" | "stop" | "merge" | "evaluate" | "open", readonly RunState[]> = {
  pause: ["running", "queued"],
  resume: ["paused", "stopped", "failed", "interrupted"],
  stop: ["running", "queued", "pausing", "paused"],
  merge: ["paused", "completed", "stopped"],
  evaluate: ["paused", "completed", "stopped"],
  open: ["queued", "running", "pausing", "paused", "merging", "evaluating", "completed", "failed", "stopped", "interrupted"],
};

