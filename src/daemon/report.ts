// Turning an engine's evaluation report into protocol records, and records into a short table.
import type { EvaluationRecord } from "../protocol/runs";
import type { RunManifest } from "./runStore";
import { escapeMarkdown as md } from "../core/markdown";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * Records from a report: entries of a `records` array (already EvaluationRecords) or of a
 * `models` array of `{name, cleanAccuracy, robustAccuracy, worstCaseRobustAccuracy}` (the
 * shape `hyperat demo` writes). Entries without the accuracies are skipped.
 */
export function extractEvaluationRecords(report: unknown, step: number): EvaluationRecord[] {
  if (!isObj(report)) return [];
  const list = Array.isArray(report.records) ? report.records : Array.isArray(report.models) ? report.models : [];
  const out: EvaluationRecord[] = [];
  for (const e of list) {
    if (!isObj(e)) continue;
    const target = typeof e.target === "string" ? e.target : typeof e.name === "string" ? e.name : undefined;
    const clean = num(e.cleanAccuracy);
    const worst = num(e.worstCaseRobustAccuracy);
    if (target === undefined || clean === undefined || worst === undefined) continue;
    const robust: Record<string, number> = {};
    if (isObj(e.robustAccuracy)) for (const [k, v] of Object.entries(e.robustAccuracy)) if (num(v) !== undefined) robust[k] = v as number;
    out.push({ step: num(e.step) ?? step, target, cleanAccuracy: clean, robustAccuracy: robust, worstCaseRobustAccuracy: worst });
  }
  return out;
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
