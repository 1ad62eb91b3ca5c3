import type { Command } from "commander";
import { exitCodeFor, finalLine, openManager, waitForRun } from "../runSession";

export function registerResume(program: Command): void {
  program
    .command("resume")
    .description("continue a paused, stopped or interrupted run from its latest checkpoint")
    .argument("<runDir>", "the run folder (.hyperat/runs/<id>)")
    .option("--force", "take the run over even from a live process that owns it (that process stops writing to it at its next step); without it such a run is refused, naming its owner")
    .option("--worker", "compute in a worker thread")
    .option("-v, --verbose", "print info logs and progress details")
    .action(async (runDir: string, opts: { force?: boolean; worker?: boolean; verbose?: boolean }) => {
      const { manager, printer, close } = openManager(opts);
      try {
        const runId = await manager.adopt(runDir, { force: opts.force });
        await manager.resume(runId, { force: opts.force });
        const run = await waitForRun(manager, printer, runId);
        printer.line(finalLine(run));
        process.exitCode = exitCodeFor(run);
      } finally {
        await close();
      }
    });
}
