import type { Command } from "commander";
import { openManager } from "../runSession";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("merge a run's per-defense LoRAs into one plain ViT (merged/ in the run folder)")
    .argument("<runDir>", "the run folder (.hyperat/runs/<id>)")
    .option("--strategy <strategy>", "uniform | adaptive", "adaptive")
    .option("--json", "print the merge record as JSON")
    .option("--worker", "compute in a worker thread")
    .option("-v, --verbose", "print progress details")
    .action(async (runDir: string, opts: { strategy: string; json?: boolean; worker?: boolean; verbose?: boolean }) => {
      if (opts.strategy !== "uniform" && opts.strategy !== "adaptive") {
        throw new Error(`--strategy: must be "uniform" or "adaptive", got "${opts.strategy}"`);
      }
      const { manager, close } = openManager(opts);
      try {
        const runId = await manager.adopt(runDir);
        const record = await manager.merge(runId, opts.strategy);
        if (opts.json) {
          console.log(JSON.stringify(record, null, 2));
          return;
        }
        console.log(`merged (${record.strategy}): ${record.modelPath}`);
        for (const [defense, lambdas] of Object.entries(record.lambdas ?? {})) {
          console.log(`  λ ${defense}: ${lambdas.map((l) => l.toFixed(3)).join(" ")}`);
        }
      } finally {
        await close();
      }
    });
}
