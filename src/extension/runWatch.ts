// Early warnings per run from what the daemon streams (issue 16 item 2): the loss series for the
// flat-loss check and the base model's clean accuracy, both judged by the shared checks in
// src/protocol/trainingChecks.ts. Pure (no vscode) for node:test; extension.ts feeds it and the
// tree row, the status bar and the completion/crash notices read it.
import type { BaseModelRecord } from "../protocol/runs";
import { flatLoss, flatLossText } from "../protocol/trainingChecks";

/** Steps kept per run: enough for the check's first and last windows over a long run. */
const KEEP = 5000;

export class RunWatch {
  private readonly losses = new Map<string, Array<{ step: number; loss: number }>>();
  private readonly base = new Map<string, BaseModelRecord>();

  metric(runId: string, step: number, loss: number): void {
    let s = this.losses.get(runId);
    if (!s) this.losses.set(runId, (s = []));
    // A step at or below the last one: the run resumed from a checkpoint; the lost attempt goes.
    while (s.length && s[s.length - 1].step >= step) s.pop();
    s.push({ step, loss });
    if (s.length > KEEP) s.splice(FIRST_KEPT, s.length - KEEP); // keep the start: the check compares against it
  }

  /** metrics.jsonl's `resume` line: steps past `fromStep` belong to an attempt that was lost. */
  resume(runId: string, fromStep: number): void {
    const s = this.losses.get(runId);
    while (s?.length && s[s.length - 1].step > fromStep) s.pop();
  }

  baseModel(runId: string, record: BaseModelRecord): void {
    this.base.set(runId, record);
  }

  /** Short warnings for the run's row, status bar and notices; empty when all looks fine. */
  warnings(runId: string): string[] {
    const out: string[] = [];
    const b = this.base.get(runId);
    if (b?.nearChance) out.push(baseModelWarning(b));
    const f = flatLoss(this.losses.get(runId) ?? []);
    if (f) out.push(flatLossText(f));
    return out;
  }

  forget(runId: string): void {
    this.losses.delete(runId);
    this.base.delete(runId);
  }
}

/** Entries at the start of a series that trimming never drops. */
const FIRST_KEPT = 10;

/** "base model 15.6% clean (chance 10%): raise model.pretrain.steps …". */
export function baseModelWarning(b: BaseModelRecord): string {
  const chance = 100 / b.numClasses;
  return `base model ${(100 * b.cleanAccuracy).toFixed(1)}% clean (chance ${Number(chance.toFixed(1))}%)${b.hint ? `: ${b.hint}` : ""}`;
}
