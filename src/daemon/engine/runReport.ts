// A run's report.md: the one renderer (the HyperAT engine writes it next to report.json in
// evaluateRun.ts; the test engine in test/daemon/fakeEngine.ts renders its rows through it too).
import { escapeMarkdown as md, markdownTable } from "../../core/markdown";
import { formatPercent as pct } from "../../core/evaluate/percent";
import type { ModelEvaluation, RunReport } from "../../core/evaluate/runReportJson";

/** One table row of report.md: a model's scores, its size and how many samples it saw. */
export type RunReportRow = Pick<ModelEvaluation, "name" | "cleanAccuracy" | "robustAccuracy" | "worstCaseRobustAccuracy" | "trainableParams" | "warnings"> & { result: { n: number } };

/** What report.md shows of a report.json (src/core/evaluate/runReportJson.ts RunReport). */
export type RunReportView = Pick<RunReport, "run" | "method" | "step" | "from" | "data" | "attacks" | "note" | "backend" | "compute" | "memoryNotes"> & { threatModel: { eps: string }; models: RunReportRow[] };

/** report.md: what was evaluated how, one row per model (worst case in bold), then the warnings and memory notes. */
export function renderRunReport(r: RunReportView): string {
  const lines = [
    `# ${md(r.run)}: robust evaluation`,
    "",
    ...(r.note ? [`> Note: ${r.note}.`, ""] : []),
    `Method ${md(r.method)}, LoRAs at step ${r.step} (checkpoint ${md(String(r.from))}). Threat model L-inf, eps ${md(r.threatModel.eps)}. Data ${md(r.data)}. Attacks ${r.attacks.map(md).join(" → ")} (each on the survivors of the previous; worst case per sample). Backend ${md(String(r.compute ?? r.backend))}.`,
    "",
    ...markdownTable(
      ["model", "clean", ...r.attacks.map(md), "worst case", "trainable params", "n"],
      r.models.map((m) => [md(m.name), pct(m.cleanAccuracy), ...r.attacks.map((a) => pct(m.robustAccuracy[a])), `**${pct(m.worstCaseRobustAccuracy)}**`, m.trainableParams.toLocaleString("en-US"), String(m.result.n)]),
    ),
  ];
  const warnings = r.models.flatMap((m) => m.warnings.map((w) => `- ${md(m.name)}: ${md(w)}`));
  if (warnings.length) lines.push("", "## Warnings", "", ...warnings);
  // What memory planning changed (a smaller attack batch, fewer workers): src/core/evaluate/batchMemory.ts.
  if (r.memoryNotes?.length) lines.push("", "## Memory", "", ...r.memoryNotes.map((w) => `- ${md(w)}`));
  return lines.join("\n") + "\n";
}
