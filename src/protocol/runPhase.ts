// What a run is doing right now, as one short text for its tree row, the status bar and the
// dashboard header (issue 16 item 3: "Step 0/60" for 9 s of pretraining said nothing). Derived
// from the run's state plus the operation the daemon reports through `hyperat/progress`
// (prepare = clean pretraining or data loading, validate, merge, evaluate). Plain data, no
// imports beyond types: the webview bundle uses it too.
import type { RunState } from "./runs";

/** The open operation of a run, as the progress tracker (src/extension/progressTracker.ts) has it. */
export interface PhaseOperation {
  operation?: string;
  title: string;
  message?: string;
  /** 0..100 */
  percentage?: number;
}

export type RunPhase =
  | { kind: "daemon starting" }
  | { kind: "queued" }
  | { kind: "pretraining"; step?: number; total?: number }
  | { kind: "preparing" }
  | { kind: "training"; step: number; total: number }
  | { kind: "validating"; step: number }
  | { kind: "pausing" }
  | { kind: "merging"; percentage?: number }
  | { kind: "evaluating"; percentage?: number }
  | { kind: "settled"; state: RunState };

/** The daemon's pretraining progress message reads "step 12/60, loss 2.301" (src/daemon/engine/hyperatEngine.ts prepare). */
const STEP_OF = /step (\d+)\/(\d+)/;

export function runPhase(
  run: { state: RunState; step: number; totalSteps: number },
  op?: PhaseOperation,
  daemonStarting = false,
): RunPhase {
  if (op?.operation === "merge" || run.state === "merging") return { kind: "merging", percentage: op?.operation === "merge" ? op.percentage : undefined };
  if (op?.operation === "evaluate" || run.state === "evaluating") return { kind: "evaluating", percentage: op?.operation === "evaluate" ? op.percentage : undefined };
  if (run.state === "pausing") return { kind: "pausing" };
  if (op?.operation === "validate") return { kind: "validating", step: run.step };
  if (op?.operation === "prepare") {
    if (!/pretrain/i.test(op.title)) return { kind: "preparing" };
    const m = STEP_OF.exec(op.message ?? "");
    return m ? { kind: "pretraining", step: Number(m[1]), total: Number(m[2]) } : { kind: "pretraining" };
  }
  if (run.state === "queued") return daemonStarting ? { kind: "daemon starting" } : { kind: "queued" };
  if (run.state === "running") return daemonStarting ? { kind: "daemon starting" } : { kind: "training", step: run.step, total: run.totalSteps };
  return { kind: "settled", state: run.state };
}

/** "pretraining 12/60", "training 40/200", "validating at 50", "merging 40%", "paused". */
export function phaseText(p: RunPhase): string {
  switch (p.kind) {
    case "pretraining":
      return p.step !== undefined ? `pretraining ${p.step}/${p.total}` : "pretraining";
    case "training":
      return `training ${p.step}/${p.total}`;
    case "validating":
      return `validating at step ${p.step}`;
    case "merging":
    case "evaluating":
      return p.percentage !== undefined ? `${p.kind} ${Math.round(p.percentage)}%` : p.kind;
    case "settled":
      return p.state;
    default:
      return p.kind;
  }
}
