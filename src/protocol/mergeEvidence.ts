// What shows that a merge did something (issue 16 item 5: λ read 0.333 in every cell and the
// adaptive and uniform reports were identical): λ as its deviation from the uniform 1/K, at a
// precision that shows small moves, and the merge objective before and after with the λ steps
// run. Plain functions, type imports only: the model card (src/daemon/engine/modelCard.ts) and
// the dashboard (webview/lambdaView.ts) print the same numbers the same way.
import type { MergeObjective } from "./runs";

/** λ − 1/K per defense and block, K = the number of defenses merged. */
export function lambdaDeviations(lambdas: Readonly<Record<string, readonly number[]>>): Record<string, number[]> {
  const k = Object.keys(lambdas).length;
  return Object.fromEntries(Object.entries(lambdas).map(([d, ls]) => [d, ls.map((l) => l - 1 / k)]));
}

/** "+0.0123", "−0.0040", "0" — signed, 4 decimals (λ moves of 1e-3 must be visible). */
export function formatDeviation(d: number): string {
  if (!Number.isFinite(d)) return "–";
  const r = Number(d.toFixed(4));
  if (r === 0) return "0";
  return `${r > 0 ? "+" : "−"}${Math.abs(r).toFixed(4)}`;
}

/** "adversarial-ce 1.2340 → 1.1980 over 20 λ steps". */
export function objectiveText(o: MergeObjective): string {
  return `${o.kind} ${o.before.toFixed(4)} → ${o.after.toFixed(4)} over ${o.steps} λ step${o.steps === 1 ? "" : "s"}`;
}
