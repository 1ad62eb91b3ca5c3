// The adaptive merge's evidence (issue 16 item 5: λ read 0.333 in every cell and adaptive looked
// identical to uniform): λ as its deviation from the uniform 1/K, at a precision that shows
// small moves, plus the merge objective before and after and how many λ steps ran.
import type { MergeRecord } from "../src/protocol/runs";
import { formatDeviation, lambdaDeviations, objectiveText } from "../src/protocol/mergeEvidence";

// One formatter for the dashboard and the model card.
export { formatDeviation };

export interface LambdaView {
  rows: string[];
  cols: string[];
  /** deviation[row][col] = λ − 1/K */
  deviation: number[][];
  /** Largest |λ − 1/K|, for the colour scale and the caption. */
  maxAbs: number;
  /** "adversarial-ce 1.234 → 1.198 over 20 λ steps", when recorded. */
  objective?: string;
  /** K of 1/K. */
  k: number;
}

/** From the latest merge with λ; undefined when there is none. */
export function lambdaView(merges: readonly MergeRecord[]): LambdaView | undefined {
  const m = [...merges].reverse().find((x) => x.lambdas && Object.keys(x.lambdas).length > 0);
  if (!m?.lambdas) return undefined;
  const cols = Object.keys(m.lambdas);
  const k = cols.length;
  const n = Math.max(...cols.map((d) => m.lambdas![d].length));
  const rows = Array.from({ length: n }, (_, i) => `block ${i}`);
  const dev = lambdaDeviations(m.lambdas);
  const deviation = rows.map((_, i) => cols.map((d) => dev[d][i] ?? NaN));
  const maxAbs = Math.max(0, ...deviation.flat().filter(Number.isFinite).map(Math.abs));
  const o = m.objective;
  const objective = o ? objectiveText(o) : undefined;
  return { rows, cols, deviation, maxAbs, objective, k };
}

/** One line under the table. */
export function lambdaCaption(v: LambdaView): string {
  const moved = v.maxAbs < 5e-5 ? "λ did not move from 1/K: this merge equals the uniform one" : `largest |λ − 1/${v.k}| = ${v.maxAbs.toFixed(4)}`;
  return `${moved}${v.objective ? ` · objective ${v.objective}` : ""}`;
}
