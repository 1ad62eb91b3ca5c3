/**
 * An accuracy as every report prints it: "44.00%", two decimals as AutoAttack and RobustBench
 * print them (one sample of 10,000 is 0.01%), "–" when missing or not a number. The one formatter
 * for the evaluator's tables (report.ts), the run report and the model card (src/daemon/engine/)
 * and the demo report (src/cli/verbs/demoReport.ts), so one number reads the same everywhere.
 */
export function formatPercent(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(2)}%`;
}
