// Early signs that training is not working (issue 16 item 2: a base model at 15.6 % on 10 classes
// and a loss flat at ln 10 went unnoticed for a whole run). Thresholds are constants here, stated
// in their docs and tested on constructed series (test/protocol/trainingChecks.test.ts). Plain
// functions, no imports beyond types: the daemon, the extension and the webview use them.
import type { StepMetric } from "./runs";

/** Clean accuracy below this multiple of chance (1/numClasses) counts as "near chance":
 * under 20 % on 10 classes, under 2 % on 100. */
export const NEAR_CHANCE_FACTOR = 2;

export function chanceAccuracy(numClasses: number): number {
  return 1 / Math.max(1, numClasses);
}

export function isNearChance(accuracy: number, numClasses: number): boolean {
  return accuracy < NEAR_CHANCE_FACTOR * chanceAccuracy(numClasses);
}

/** What to change when the base model is near chance, for the warning text. */
export function nearChanceHint(source: string): string {
  return source === "random init"
    ? "the backbone is randomly initialized: set model.path to pretrained weights or add model.pretrain"
    : /pretrain/i.test(source)
      ? "raise model.pretrain.steps (clean pretraining did not learn), or check model.numClasses and the data"
      : "check model.numClasses, model.mean/std normalization and that the weights match the data";
}

/** A flat loss is judged only after this many steps... */
export const FLAT_LOSS_MIN_STEPS = 20;
/** ...comparing the mean loss of the first and the last this many steps... */
export const FLAT_LOSS_WINDOW = 5;
/** ...and flags it when they differ by less than this fraction of the first. */
export const FLAT_LOSS_REL_CHANGE = 0.02;

export interface FlatLoss {
  /** Steps covered (first to last step of the series). */
  steps: number;
  startLoss: number;
  nowLoss: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The loss has not moved from its start: series oldest first (superseded steps already folded). */
export function flatLoss(series: ReadonlyArray<Pick<StepMetric, "step" | "loss">>): FlatLoss | undefined {
  const finite = series.filter((m) => Number.isFinite(m.loss));
  if (finite.length < Math.max(FLAT_LOSS_MIN_STEPS, 2 * FLAT_LOSS_WINDOW)) return undefined;
  const steps = finite[finite.length - 1].step - finite[0].step + 1;
  if (steps < FLAT_LOSS_MIN_STEPS) return undefined;
  const startLoss = mean(finite.slice(0, FLAT_LOSS_WINDOW).map((m) => m.loss));
  const nowLoss = mean(finite.slice(-FLAT_LOSS_WINDOW).map((m) => m.loss));
  const rel = Math.abs(nowLoss - startLoss) / Math.max(Math.abs(startLoss), 1e-12);
  return rel < FLAT_LOSS_REL_CHANGE ? { steps, startLoss, nowLoss } : undefined;
}

/** "loss flat at 2.303 for 40 steps" for rows, the status bar tooltip and the dashboard. */
export function flatLossText(f: FlatLoss): string {
  return `loss flat at ${f.nowLoss.toFixed(3)} for ${f.steps} steps`;
}
