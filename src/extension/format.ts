// Derived facts about a run from its metrics events (metrics.jsonl lines or live notifications):
// how often each defense was sampled (the paper's "random sampling and tuning", so the shares
// should approach the configured weights) and the latest robust accuracy of each defense's LoRA
// and of each merge. Pure: used by the tree, the config decorations and the status bar.

/** The metrics events this module reads; other kinds and malformed lines are ignored. */
export type MetricsEvent =
  | { kind: "step"; step: number; defense: string; loss?: number; advAcc?: number; cleanAcc?: number }
  | { kind: "validation"; step: number; target: string; cleanAccuracy?: number; worstCaseRobustAccuracy: number }
  | { kind: string; step?: number };

export interface DefenseFacts {
  name: string;
  /** Steps on which this defense was sampled. */
  sampled: number;
  /** sampled / all sampled steps, in [0,1]. */
  share: number;
  /** Worst-case robust accuracy of this defense's LoRA at the latest validation, if any. */
  lastRobustAccuracy?: number;
}

export interface MetricsSummary {
  lastStep: number;
  defenses: DefenseFacts[];
  /** Latest robust accuracy per validation target that is not a defense (merges, "clean" model). */
  otherTargets: Record<string, number>;
  /** Best worst-case robust accuracy over every validation so far. */
  bestRobustAccuracy?: number;
  lastLoss?: number;
}

function isStep(e: MetricsEvent): e is Extract<MetricsEvent, { kind: "step" }> {
  return e.kind === "step" && typeof (e as { defense?: unknown }).defense === "string" && typeof e.step === "number";
}

function isValidation(e: MetricsEvent): e is Extract<MetricsEvent, { kind: "validation" }> {
  const v = e as { target?: unknown; worstCaseRobustAccuracy?: unknown };
  return e.kind === "validation" && typeof v.target === "string" && typeof v.worstCaseRobustAccuracy === "number";
}

/** Summarizes events in file order; `defenseOrder` (from the config) fixes the order and keeps never-sampled defenses. */
export function summarizeMetrics(events: readonly MetricsEvent[], defenseOrder: readonly string[] = []): MetricsSummary {
  const sampled = new Map<string, number>(defenseOrder.map((d) => [d, 0]));
  const lastRobust = new Map<string, number>();
  let lastStep = 0;
  let total = 0;
  let best: number | undefined;
  let lastLoss: number | undefined;
  for (const e of events) {
    if (isStep(e)) {
      sampled.set(e.defense, (sampled.get(e.defense) ?? 0) + 1);
      total++;
      lastStep = Math.max(lastStep, e.step);
      if (typeof e.loss === "number") lastLoss = e.loss;
    } else if (isValidation(e)) {
      lastRobust.set(e.target, e.worstCaseRobustAccuracy);
      best = best === undefined ? e.worstCaseRobustAccuracy : Math.max(best, e.worstCaseRobustAccuracy);
    }
  }
  const defenses = [...sampled].map(([name, n]) => ({
    name,
    sampled: n,
    share: total === 0 ? 0 : n / total,
    ...(lastRobust.has(name) ? { lastRobustAccuracy: lastRobust.get(name) } : {}),
  }));
  const otherTargets: Record<string, number> = {};
  for (const [t, acc] of lastRobust) if (!sampled.has(t)) otherTargets[t] = acc;
  return { lastStep, defenses, otherTargets, bestRobustAccuracy: best, lastLoss };
}

/** Parses metrics.jsonl text; a torn or malformed line (e.g. after a crash mid-append) is skipped, never fatal. */
export function parseMetricsLines(text: string): MetricsEvent[] {
  const out: MetricsEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (v && typeof v === "object" && typeof (v as { kind?: unknown }).kind === "string") out.push(v as MetricsEvent);
    } catch {
      // torn last line: ignore
    }
  }
  return out;
}

/** "41.2%" for 0.4123; "–" when unknown. */
export function percent(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(digits)}%`;
}
