// The dashboard's step history: the whole metrics.jsonl (streamed by the host in chunks) plus
// live steps, folded so a resumed run shows the trajectory it kept. Pure, for node:test.
import type { StepMetric } from "../src/protocol/runs";
import type { HistoryEvent } from "../src/protocol/webview";

/**
 * Appends events to `steps` (sorted by step) in place. A step at or before the last one kept
 * means the run went back to a checkpoint (resume after a crash): the later steps are dropped
 * first. A resume line drops the steps after its checkpoint at once, as runStore's
 * summarizeMetrics does.
 */
export function foldHistory(steps: StepMetric[], events: Iterable<HistoryEvent>): StepMetric[] {
  for (const e of events) {
    if (e.kind === "resume") {
      while (steps.length && steps[steps.length - 1].step > e.fromStep) steps.pop();
      continue;
    }
    while (steps.length && steps[steps.length - 1].step >= e.step) steps.pop();
    const { kind: _k, ...m } = e;
    steps.push(m);
  }
  return steps;
}

/** Merges a snapshot's recent steps (the last few hundred of the kept trajectory, read from
 * disk: authoritative for their range) into a longer history already loaded. */
export function mergeRecent(history: StepMetric[], recent: readonly StepMetric[]): StepMetric[] {
  if (recent.length === 0) return history;
  const from = recent[0].step;
  while (history.length && history[history.length - 1].step >= from) history.pop();
  history.push(...recent);
  return history;
}

/** Defense → number of steps that sampled it. */
export function countSampled(steps: readonly StepMetric[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) out[s.defense] = (out[s.defense] ?? 0) + 1;
  return out;
}
