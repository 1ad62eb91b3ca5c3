// Turning an engine's evaluation report into protocol records, and records into a short table.
import type { EvaluationRecord } from "../protocol/runs";
import type { EvaluationReport } from "../core/evaluate/runReportJson";
import type { RunManifest } from "./runStore";
import { escapeMarkdown as md } from "../core/markdown";

/** One record per model of the report, as the daemon stores and notifies them. */
export function extractEvaluationRecords(report: EvaluationReport): EvaluationRecord[] {
  return report.models.map((m) => ({ step: m.step, target: m.target, cleanAccuracy: m.cleanAccuracy, robustAccuracy: { ...m.robustAccuracy }, worstCaseRobustAccuracy: m.worstCaseRobustAccuracy }));
}

const pct = (x: number | undefined) => (x === undefined ? "—" : `${(100 * x).toFixed(1)} %`);

/** A short Markdown table of evaluation records (the test engine writes it as its report.md). */
export function renderReportMarkdown(run: Pick<RunManifest, "id" | "name" | "method" | "defenses" | "step" | "totalSteps">, records: EvaluationRecord[]): string {
  const attacks = [...new Set(records.flatMap((r) => Object.keys(r.robustAccuracy)))];
  const lines = [
    `# Evaluation of run ${md(run.id)}`,
    "",
    `${md(run.name)}: method ${md(run.method)}, defenses ${run.defenses.map(md).join(", ")}, step ${run.step}/${run.totalSteps}.`,
    "",
    `| model | clean | ${attacks.map(md).join(" | ")}${attacks.length ? " | " : ""}worst case |`,
    `|---|---|${attacks.map(() => "---|").join("")}---|`,
    ...records.map((r) => `| ${md(r.target)} | ${pct(r.cleanAccuracy)} | ${attacks.map((a) => pct(r.robustAccuracy[a])).join(" | ")}${attacks.length ? " | " : ""}${pct(r.worstCaseRobustAccuracy)} |`),
    "",
  ];
  return lines.join("\n");
}
