import type { Command } from "commander";
import { openManager } from "../runSession";
import { isCheckpointRef } from "../../daemon/engine/checkpointFiles";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge a run's per-defense LoRAs into one plain ViT (merged/ in the run folder)")
    .argument("<runDir>", "the run folder (.hyperat/runs/<id>)")
    .option("--strategy <strategy>", "uniform | adaptive", "adaptive")
    .option("--from <checkpoint>", "best | latest | step-N: which checkpoint's LoRAs to merge", "latest")
    .option("--json", "print the merge record as JSON")
    .option("--worker", "compute in a worker thread")
    .option("-v, --verbose", "print progress details")
    .action(async (runDir: string, opts: { strategy: string; from: string; json?: boolean; worker?: boolean; verbose?: boolean }) => {
      if (opts.strategy !== "uniform" && opts.strategy !== "adaptive") {
        throw new Error(`--strategy: must be "uniform" or "adaptive", got "${opts.strategy}"`);
      }
      if (!isCheckpointRef(opts.from)) throw new Error(`--from: must be "best", "latest" or "step-N", got "${opts.from}"`);
      const { manager, close } = openManager(opts);
      try {
        const runId = await manager.adopt(runDir);
        const record = await manager.merge(runId, opts.strategy, opts.from);
        if (opts.json) {
          console.log(JSON.stringify(record, null, 2));
          return;
        }
        console.log(`merged (${record.strategy}, ${record.from} = step ${record.step}): ${record.modelPath}`);
        for (const [defense, lambdas] of Object.entries(record.lambdas ?? {})) {
          console.log(`  λ ${defense}: ${lambdas.map((l) => l.toFixed(3)).join(" ")}`);
        }
      } finally {
        await close();
      }
    });
}
