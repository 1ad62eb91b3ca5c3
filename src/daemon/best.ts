import type { BestRecord, EvaluationRecord } from "../protocol/runs";

/**
 * The model whose validation decides a run's best checkpoint: the one `merge` turns into the
 * deliverable — HyperAT's uniform merge of its LoRAs (what periodic validation evaluates as
 * "uniform"), the single adapter of lora-at, the tuned weights of full-at.
 */
export function selectionTarget(method: string, defenses: readonly string[]): string {
  if (method === "hyperat") return "uniform";
  if (method === "full-at") return "full-at";
  return defenses[0] ?? method;
}

/**
 * `prev` or the record `r` if it is the selection target's and at least as robust (ties go to
 * the later step: early stopping keeps the most robust point, Rice et al., ICML 2020, and the
 * later of equals has trained longer). Non-finite numbers never win.
 */
export function nextBest(prev: BestRecord | undefined, r: EvaluationRecord, target: string): BestRecord | undefined {
  if (r.target !== target || !Number.isFinite(r.worstCaseRobustAccuracy)) return prev;
  if (prev && (r.worstCaseRobustAccuracy < prev.worstCaseRobustAccuracy || (r.worstCaseRobustAccuracy === prev.worstCaseRobustAccuracy && r.step < prev.step))) return prev;
  return {
    target: r.target,
    split: "val",
    attack: Object.keys(r.robustAccuracy).join("+") || "none",
    step: r.step,
    worstCaseRobustAccuracy: r.worstCaseRobustAccuracy,
    cleanAccuracy: r.cleanAccuracy,
  };
}
