// Turning an engine's evaluation report into protocol records (report.md is the engine's: src/daemon/engine/runReport.ts).
import type { EvaluationRecord } from "../protocol/runs";
import type { EvaluationReport } from "../core/evaluate/runReportJson";

/** One record per model of the report, as the daemon stores and notifies them. */
export function extractEvaluationRecords(report: EvaluationReport): EvaluationRecord[] {
  return report.models.map((m) => ({ step: m.step, target: m.target, cleanAccuracy: m.cleanAccuracy, robustAccuracy: { ...m.robustAccuracy }, worstCaseRobustAccuracy: m.worstCaseRobustAccuracy }));
}
