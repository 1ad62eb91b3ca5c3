// The run-command state table lives in src/protocol/runStates.ts, shared with the daemon; this
// module re-exports it for the extension's commands and tests.
export { RUN_COMMAND_STATES, runCommandApplies, type RunCommand } from "../protocol/runStates";
