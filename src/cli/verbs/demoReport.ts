import { escapeMarkdown as md } from "../../core/markdown";
import { formatPercent as pct } from "../../core/evaluate/percent";

/** The demo's suite: the `quick` preset (PGD-20, CW-20) plus APGD-CE with 50 iterations (half AutoAttack's 100, named so in every report) to fit the CPU time budget. */
export const DEMO_ATTACKS = "pgd-20,cw-20,apgd-ce-50";

/** One row of the demo comparison (report.json `models`). */
export interface DemoModelRow {
  name: string;
  cleanAccuracy: number;
  worstCaseRobustAccuracy: number;
  robustAccuracy: Record<string, number>;
  trainableParams: number;
  seconds: number;
}

/** A markdown table: model, clean, each attack, worst case, trainable params, seconds. */
export function renderDemoTable(rows: DemoModelRow[]): string {
  const attacks = [...new Set(rows.flatMap((r) => Object.keys(r.robustAccuracy)))];
  const head = ["model", "clean", ...attacks, "worst case", "trainable params", "eval s"];
  const lines = [
    `| ${head.map(md).join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map(
      (r) =>
        `| ${[md(r.name), pct(r.cleanAccuracy), ...attacks.map((a) => pct(r.robustAccuracy[a])), `**${pct(r.worstCaseRobustAccuracy)}**`, r.trainableParams.toLocaleString("en-US"), r.seconds.toFixed(1)].join(" | ")} |`,
    ),
  ];
  return lines.join("\n");
}
