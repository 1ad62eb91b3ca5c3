/**
 * The evaluation report: JSON (the evaluator's result plus what was evaluated) and a markdown
 * summary carrying RobustBench's leaderboard fields (architecture, threat model, eps, clean and
 * robust accuracy, evaluation method, number of samples, checkpoint), so a result can be pasted
 * into a model card or compared with robustbench.github.io entries.
 */
import type { EvalResult } from "./evaluator";
import { escapeMarkdown as md, markdownCode, markdownTable } from "../markdown";
import { formatPercent as pct } from "./percent";

export interface ReportSubject {
  /** Model file or run that was evaluated. */
  checkpoint?: string;
  /** e.g. "ViT-B/16 (vit-base), 224px, 10 classes". */
  architecture?: string;
  /** Data spec as given, e.g. "synthetic:shapes10?n=1000". */
  data?: string;
  /** Free-form command or tool that produced it. */
  command?: string;
}

export interface EvalReport extends EvalResult {
  format: "hyperat-eval-report";
  version: 1;
  generatedAt: string;
  model: { checkpoint: string | null; architecture: string | null };
  data: string | null;
  command: string | null;
}

export function buildReport(result: EvalResult, subject: ReportSubject = {}, now = new Date()): EvalReport {
  return {
    format: "hyperat-eval-report",
    version: 1,
    generatedAt: now.toISOString(),
    model: { checkpoint: subject.checkpoint ?? null, architecture: subject.architecture ?? null },
    data: subject.data ?? null,
    command: subject.command ?? null,
    ...result,
  };
}

/** How the number was obtained, in one line (RobustBench's "evaluation method"). */
export function evaluationMethod(r: EvalResult): string {
  const suite = r.attacks.map((a) => a.name).join(" → ");
  return `per-sample worst case over ${suite} (each attack on the samples still robust), seed ${r.seed}`;
}

/** Plain-text table for terminals: clean, cumulative robust accuracy per attack, worst case. */
export function formatTable(r: EvalResult): string {
  const rows: Array<[string, string, string]> = [["clean", pct(r.cleanAccuracy), ""]];
  for (const a of r.attacks) {
    const alone = r.perAttackRobustAccuracy?.[a.name];
    rows.push([a.name, pct(r.robustAccuracy[a.name]), `${a.broken}/${a.attacked} broken, ${a.seconds.toFixed(1)}s${alone !== undefined ? `, alone ${pct(alone)}` : ""}`]);
  }
  rows.push(["worst case", pct(r.worstCaseRobustAccuracy), `n = ${r.n}, Linf eps = ${r.threatModel.eps}`]);
  const w0 = Math.max(...rows.map((x) => x[0].length), "attack".length);
  const w1 = Math.max(...rows.map((x) => x[1].length), "accuracy".length);
  const line = (a: string, b: string, c: string) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`.trimEnd();
  return [line("attack", "accuracy", "notes"), line("-".repeat(w0), "-".repeat(w1), "-----"), ...rows.map((x) => line(...x))].join("\n");
}

export function reportMarkdown(rep: EvalReport): string {
  const fields: Array<[string, string]> = [
    ["Architecture", md(rep.model.architecture ?? "unknown")],
    ["Threat model", md(rep.threatModel.norm)],
    ["eps", md(String(rep.threatModel.eps))],
    ["Clean accuracy", pct(rep.cleanAccuracy)],
    ["Robust accuracy", pct(rep.worstCaseRobustAccuracy)],
    ["Evaluation method", md(evaluationMethod(rep))],
    ["n", String(rep.n)],
    ["Checkpoint", md(rep.model.checkpoint ?? "unknown")],
    ["Data", md(rep.data ?? "unknown")],
    ["Backend", md(`${rep.backend} (${Object.entries(rep.versions).map(([k, v]) => `${k} ${v}`).join(", ")})`)],
  ];
  const lines = [
    "# Robustness evaluation",
    "",
    ...markdownTable(["Field", "Value"], fields),
    "",
    "## Robust accuracy after each attack (cumulative)",
    "",
    ...markdownTable(
      ["Attack", "Settings", "Robust accuracy", "Broken / attacked", "Seconds"],
      rep.attacks.map((a) => [md(a.name), md(a.description), pct(rep.robustAccuracy[a.name]), `${a.broken} / ${a.attacked}`, a.seconds.toFixed(1)]),
    ),
    "",
    `Generated ${md(rep.generatedAt)} in ${rep.seconds.toFixed(1)} s${rep.command ? ` by ${markdownCode(rep.command)}` : ""}.`,
  ];
  if (rep.warnings.length > 0) lines.push("", "## Warnings", "", ...rep.warnings.map((w) => `- ${md(w)}`));
  return lines.join("\n") + "\n";
}
