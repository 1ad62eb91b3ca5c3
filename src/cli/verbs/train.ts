import type { Command } from "commander";
import { exitCodeFor, finalLine, openManager, waitForRun } from "../runSession";

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description("start a run from a *.hyperat.json config and train it here (Ctrl-C pauses with a checkpoint)")
    .argument("<config>", "path to a *.hyperat.json")
    .option("--run-dir <dir>", "run folder (default: .hyperat/runs/<id> in the workspace)")
    .option("--workspace <dir>", "workspace whose .hyperat/runs/ holds the run", process.cwd())
    .option("--worker", "compute in a worker thread")
    .option("-v, --verbose", "print info logs and progress details")
    .action(async (config: string, opts: { runDir?: string; workspace: string; worker?: boolean; verbose?: boolean }) => {
      const { manager, printer, close } = openManager(opts);
      try {
        const runId = await manager.start(config, { runDir: opts.runDir });
        const run = await waitForRun(manager, printer, runId);
        printer.line(finalLine(run));
        process.exitCode = exitCodeFor(run);
      } finally {
        await close();
      }
    });
}
