// The notifications a run raises (issue 16 items 3 and 6): completion with what it reached and
// the next steps, a pause that took effect, and a daemon crash that says which runs stopped where
// and from which checkpoint they resume. Pure text + buttons for node:test; extension.ts shows them.
import { describeBest, type RunSummary } from "../protocol/runs";
import { runLabel } from "./runTree";

export interface Notice {
  text: string;
  buttons: string[];
}

/** "demo · 14:02", or the run's display name: how a run is named to people (runTree.ts runLabel). */
export function runTitle(run: Pick<RunSummary, "name" | "createdAt" | "annotations">, now = new Date()): string {
  return runLabel(run, now);
}

export const COMPLETION_BUTTONS = ["Merge", "Evaluate", "Open Dashboard"] as const;

/** "Run demo · 14:02 completed: best 41.2% (uniform, val pgd-10, step 60)". */
export function completionNotice(run: Pick<RunSummary, "name" | "createdAt" | "annotations" | "best" | "totalSteps">, warnings: readonly string[] = [], now = new Date()): Notice {
  const best = run.best ? `best ${describeBest(run.best)}` : `${run.totalSteps} steps, no validation recorded`;
  const warn = warnings.length ? ` ⚠ ${warnings[0]}` : "";
  return { text: `Run ${runTitle(run, now)} completed: ${best}.${warn}`, buttons: [...COMPLETION_BUTTONS] };
}

/** A pause the user asked for took effect (the row said "pausing" meanwhile). */
export function pausedNotice(run: Pick<RunSummary, "name" | "createdAt" | "annotations">, step: number, now = new Date()): Notice {
  return { text: `Paused ${runTitle(run, now)} at step ${step}; the checkpoint is written and Resume continues from it.`, buttons: ["Resume"] };
}

export interface InterruptedRun {
  id: string;
  name: string;
  createdAt: string;
  /** The last step the daemon reported before it died. */
  lastStep: number;
  /** The step of the checkpoint a resume starts from (run.json's step: it is written at checkpoints). */
  checkpointStep: number;
}

/** "HyperAT daemon exited (signal SIGKILL): demo · 14:02 interrupted at step 15, resumes from checkpoint 10." */
export function crashNotice(how: string, runs: readonly InterruptedRun[], restarting: boolean, now = new Date()): Notice {
  const head = `HyperAT daemon exited (${how})${restarting ? "" : " and is not restarted"}`;
  if (runs.length === 0) return { text: `${head}; no run was training.`, buttons: ["Show Logs"] };
  const where = (r: InterruptedRun) => `${runTitle(r, now)} interrupted at step ${r.lastStep}, resumes from ${r.checkpointStep > 0 ? `checkpoint ${r.checkpointStep}` : "the start"}`;
  const text = runs.length === 1 ? `${head}: ${where(runs[0])}.` : `${head}: ${runs.length} runs interrupted (${runs.map(where).join("; ")}).`;
  return { text, buttons: [runs.length === 1 ? "Resume" : "Resume All", "Show Logs"] };
}
