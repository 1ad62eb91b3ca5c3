import type { Command } from "commander";
import { openManager } from "../runSession";
import { describeBest, type RunSummary } from "../../protocol/runs";

function row(r: RunSummary): string[] {
  return [
    r.id,
    r.state,
    `${r.step}/${r.totalSteps}`,
    r.method,
    r.defenses.join(","),
    r.best === undefined ? "—" : describeBest(r.best),
    r.message ?? "",
  ];
}

/** Left-aligned columns, the way `ls -l` reads. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export function registerRuns(program: Command): void {
  program
    .command("runs")
    .description("list the workspace's runs (.hyperat/runs/), newest first")
    .option("--workspace <dir>", "workspace", process.cwd())
    .option("--json", "print JSON")
    .action(async (opts: { workspace: string; json?: boolean }) => {
      const { manager, close } = openManager(opts);
      try {
        const runs = await manager.list();
        if (opts.json) {
          console.log(JSON.stringify({ runs }, null, 2));
          return;
        }
        if (runs.length === 0) {
          console.log(`no runs in ${manager.runsDir}`);
          return;
        }
        console.log(formatTable([["ID", "STATE", "STEP", "METHOD", "DEFENSES", "BEST (VAL)", "MESSAGE"], ...runs.map(row)]));
      } finally {
        await close();
      }
    });
}
