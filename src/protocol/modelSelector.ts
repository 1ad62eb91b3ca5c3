// Which one model of a run an operation is about (issue 16 item 5: "Evaluate This Model",
// "Export…"): the daemon's `hyperat/run.evaluate` `model` parameter, the tree's model rows and
// the export command share these. Plain data, no imports beyond types: the webview may use it too.
import type { ModelSelector } from "../core/evaluate/runReportJson";

// One definition, next to the report that records it (src/core/evaluate/runReportJson.ts).
export type { ModelSelector };

export type ModelKind = ModelSelector["kind"];
export const MODEL_KINDS: readonly ModelKind[] = ["base", "adapter", "merged"];

/** Defense and strategy names become folder names: no separators, no hidden or `..` names. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The selector in `value`, or a message saying what is wrong with it (`where` names the field). */
export function parseModelSelector(value: unknown, where: string): ModelSelector | { problem: string } {
  const shape = `{ kind: "base" } | { kind: "adapter", defense } | { kind: "merged", strategy }`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: `${where} must be ${shape}, got ${JSON.stringify(value)}` };
  const o = value as Record<string, unknown>;
  const name = (field: "defense" | "strategy"): string | { problem: string } =>
    typeof o[field] === "string" && SAFE_NAME.test(o[field] as string) ? (o[field] as string) : { problem: `${where}.${field} must be a name (letters, digits, '.', '_', '-'), got ${JSON.stringify(o[field])}` };
  switch (o.kind) {
    case "base":
      return { kind: "base" };
    case "adapter": {
      const defense = name("defense");
      return typeof defense === "string" ? { kind: "adapter", defense } : defense;
    }
    case "merged": {
      const strategy = name("strategy");
      return typeof strategy === "string" ? { kind: "merged", strategy } : strategy;
    }
    default:
      return { problem: `${where}.kind must be "base", "adapter" or "merged", got ${JSON.stringify(o.kind)}` };
  }
}

/** "base", "adapter-pgd-at", "merged-uniform": how the model is named in folder names and messages. */
export function modelSlug(m: ModelSelector): string {
  return m.kind === "base" ? "base" : m.kind === "adapter" ? `adapter-${m.defense}` : `merged-${m.strategy}`;
}

/** "the base model", "the pgd-at adapter", "the uniform merge": how a message names it. */
export function describeModel(m: ModelSelector): string {
  return m.kind === "base" ? "the base model" : m.kind === "adapter" ? `the ${m.defense} adapter` : `the ${m.strategy} merge`;
}

/**
 * The run-folder paths (relative, `/`-separated) whose presence means the run has this model,
 * newest layout first (src/daemon/engine/exports.ts writes them); [] for the base model, which is
 * the backbone rather than a file of the run.
 */
export function modelWeightsPaths(m: ModelSelector): string[] {
  if (m.kind === "adapter") return [`adapters/${m.defense}/adapter_model.safetensors`];
  if (m.kind === "merged") return [`merged/${m.strategy}/model.safetensors`, `merged/model-${m.strategy}.safetensors`];
  return [];
}

/** The model a run-folder artifact path holds (a tree row's file), or undefined for other files
 * (checkpoints, older runs' flat adapter files). The inverse of `modelWeightsPaths`. */
export function modelOfArtifact(rel: string): ModelSelector | undefined {
  const adapter = /^adapters\/([^/]+)\/adapter_model\.safetensors$/.exec(rel);
  if (adapter && SAFE_NAME.test(adapter[1])) return { kind: "adapter", defense: adapter[1] };
  const merged = /^merged\/(?:([^/]+)\/model\.safetensors|model-(\w+)\.safetensors)$/.exec(rel);
  const strategy = merged?.[1] ?? merged?.[2];
  if (strategy && SAFE_NAME.test(strategy)) return { kind: "merged", strategy };
  return undefined;
}

/** Where one model's evaluation is written, relative to the run folder: its own folder under
 * reports/, so the run's report.json (every model) is never overwritten by one model's. */
export function modelReportDir(m: ModelSelector, at: Date): string {
  // 2026-12-03T10-19-00-123Z: sortable, and no ':' (not allowed in Windows file names).
  return `reports/${modelSlug(m)}-${at.toISOString().replace(/[:.]/g, "-")}`;
}
