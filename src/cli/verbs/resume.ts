import type { Command } from "commander";
import { exitCodeFor, finalLine, openManager, waitForRun } from "../runSession";

export function registerResume(program: Command): void {
  program
    .command("resume")
    .description("continue a paused, stopped or interrupted run from its latest checkpoint")
    .argument("<runDir>", "the run folder (.hyperat/runs/<id>)")
    .option("--worker", "compute in a worker thread")
    .option("-v, --verbose", "print info logs and progress details")
    .action(async (runDir: string, opts: { worker?: boolean; verbose?: boolean }) => {
      const { manager, printer, close } = openManager(opts);
      try {
        const runId = await manager.adopt(runDir);
        await manager.resume(runId);
        const run = await waitForRun(manager, printer, runId);
        printer.line(finalLine(run));
        process.exitCode = exitCodeFor(run);
      } finally {
        await close();
      }
    });
}
