// What the run verbs share: a RunManager for the current workspace, driven in-process (one
// code path with the daemon), a printer, and Ctrl-C = pause at the next step boundary.
import * as path from "node:path";
import { RunManager } from "../daemon/runManager";
import { runsDirOf } from "../daemon/runStore";
import { engineModuleFromEnv } from "../daemon/compute/loader";
import { RunPrinter } from "./runPrinter";
import type { RunSummary } from "../protocol/runs";

export interface RunVerbOptions {
  workspace?: string;
  /** Train in a worker thread instead of this one. */
  worker?: boolean;
  verbose?: boolean;
}

export function openManager(opts: RunVerbOptions): { manager: RunManager; printer: RunPrinter; close: () => Promise<void> } {
  const manager = new RunManager({
    runsDir: runsDirOf(path.resolve(opts.workspace ?? process.cwd())),
    engineModule: engineModuleFromEnv(),
    useWorkers: !!opts.worker,
  });
  const printer = new RunPrinter({ verbose: opts.verbose });
  const detach = printer.attach(manager);
  return {
    manager,
    printer,
    close: async () => {
      await manager.shutdown();
      detach();
      printer.close();
    },
  };
}

/**
 * Waits for the run to leave its active states. The first Ctrl-C pauses it at the next step
 * boundary (checkpoint written, resumable); a second one exits at once.
 */
export async function waitForRun(manager: RunManager, printer: RunPrinter, runId: string): Promise<RunSummary> {
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    printer.line("pausing at the next step boundary (Ctrl-C again to quit without a checkpoint)");
    void manager.pause(runId).catch(() => {});
  };
  process.on("SIGINT", onSigint);
  try {
    await manager.idle();
  } finally {
    process.off("SIGINT", onSigint);
  }
  const run = (await manager.list()).find((r) => r.id === runId);
  if (!run) throw new Error(`run ${runId} disappeared`);
  return run;
}

/** Exit code for a run that stopped being active: 0 when it completed or was paused on request. */
export function exitCodeFor(run: RunSummary): number {
  if (run.state === "completed" || run.state === "stopped") return 0;
  if (run.state === "paused") return run.message ? 2 : 0;
  return 1;
}

export function finalLine(run: RunSummary): string {
  const where = run.dir;
  switch (run.state) {
    case "completed":
      return `run ${run.id} completed (${run.step}/${run.totalSteps} steps) in ${where}`;
    case "paused":
    case "stopped":
      return `run ${run.id} ${run.state} at step ${run.step}/${run.totalSteps}${run.message ? `: ${run.message}` : ""}; continue with: hyperat resume ${where}`;
    default:
      return `run ${run.id} ${run.state}${run.message ? `: ${run.message}` : ""} (${where})`;
  }
}
