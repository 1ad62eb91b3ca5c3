// The compare-runs panel's data, shaped on the host from each run folder (pure, for node:test):
// the kept step trajectory, every validation and evaluation, the robustness table and the
// config diff. The panel (comparePanel.ts) reads the folders; the page draws (webview/compare.ts).
import type { CompareRow, CompareRun, CompareSteps, ConfigDiffRow, HostToCompareMessage } from "../protocol/compare";
import type { EvaluationRecord, MetricsLine, RunDetail } from "../protocol/runs";
import { readMetricsLines } from "../daemon/runStore";
import type { RunReader } from "./runExplorer";

/**
 * The steps a run kept, as the dashboard folds them (webview/history.ts): a step at or before the
 * last kept one, or a resume line, means the run went back to a checkpoint and later steps of
 * the lost attempt are dropped.
 */
export function keptSteps(lines: readonly MetricsLine[]): CompareSteps {
  const out: CompareSteps = { step: [], loss: [], cleanAcc: [], advAcc: [], lr: [] };
  const cols = Object.values(out) as number[][];
  const dropAfter = (step: number, inclusive: boolean) => {
    let n = out.step.length;
    while (n > 0 && (inclusive ? out.step[n - 1] >= step : out.step[n - 1] > step)) n--;
    for (const c of cols) c.length = n;
  };
  for (const l of lines) {
    if (l.kind === "resume") dropAfter(l.fromStep, false);
    else if (l.kind === "step") {
      dropAfter(l.step, true);
      out.step.push(l.step);
      out.loss.push(l.loss);
      out.cleanAcc.push(l.cleanAcc);
      out.advAcc.push(l.advAcc);
      out.lr.push(l.lr);
    }
  }
  return out;
}

/** Every validation (val) and final evaluation (test) of a run, in file order. */
export function evaluationsOf(lines: readonly MetricsLine[]): EvaluationRecord[] {
  const out: EvaluationRecord[] = [];
  for (const l of lines) {
    if (l.kind === "validation") {
      const { kind: _k, time: _t, ...r } = l;
      out.push({ ...r, split: r.split ?? "val" });
    } else if (l.kind === "evaluationReport") {
      for (const r of l.records) out.push({ ...r, split: "test" });
    }
  }
  return out;
}

export function compareRunOf(detail: RunDetail, lines: readonly MetricsLine[]): CompareRun {
  return {
    id: detail.id,
    name: detail.name,
    ...(detail.annotations?.displayName ? { displayName: detail.annotations.displayName } : {}),
    state: detail.state,
    method: detail.method,
    bestTarget: detail.best?.target,
    steps: keptSteps(lines),
    evaluations: evaluationsOf(lines),
  };
}

/**
 * One row per run and evaluated model: the final worst-case robust accuracy (the last test
 * evaluation, else the last validation) and the best one reached (ties: the earlier step).
 */
export function robustnessTable(runs: readonly CompareRun[]): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const run of runs) {
    const targets = [...new Set(run.evaluations.map((e) => e.target))];
    for (const target of targets) {
      const evs = run.evaluations.filter((e) => e.target === target && Number.isFinite(e.worstCaseRobustAccuracy));
      if (evs.length === 0) continue;
      const tests = evs.filter((e) => e.split === "test");
      const last = (tests.length ? tests : evs).at(-1)!;
      let best = evs[0];
      for (const e of evs) if (e.worstCaseRobustAccuracy > best.worstCaseRobustAccuracy) best = e;
      rows.push({
        runId: run.id,
        runName: run.displayName ?? run.name,
        target,
        final: { worstCase: last.worstCaseRobustAccuracy, clean: last.cleanAccuracy, split: last.split ?? "val", step: last.step },
        best: { worstCase: best.worstCaseRobustAccuracy, split: best.split ?? "val", step: best.step },
      });
    }
  }
  return rows;
}

/** JSON path → value as JSON text, for every leaf (arrays by index: `defenses[1].name`). */
export function flattenConfig(v: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v)) {
    if (v.length === 0) out.set(prefix, "[]");
    v.forEach((x, i) => flattenConfig(x, `${prefix}[${i}]`, out));
  } else if (v && typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>).filter(([k]) => k !== "$schema");
    if (entries.length === 0 && prefix) out.set(prefix, "{}");
    for (const [k, x] of entries) flattenConfig(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
  return out;
}

/** Only the fields whose values are not the same in every run (missing counts as different). */
export function configDiff(configs: readonly unknown[]): ConfigDiffRow[] {
  const flat = configs.map((c) => flattenConfig(c));
  // In config order (first run first), so related fields stay together.
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  return paths
    .map((path) => ({ path, values: flat.map((f) => f.get(path)) }))
    .filter((row) => row.values.some((v) => v !== row.values[0]));
}

/** Distinct run ids of the clicked tree node and the tree's selection (a context-menu command
 * gets both), in selection order; `runIdOf` is Ctx.runIdFrom (ctx.ts). */
export function runIdsFromArgs(clicked: unknown, selected: unknown, runIdOf: (arg: unknown) => string | undefined): string[] {
  const nodes = Array.isArray(selected) && selected.length ? selected : [clicked];
  return [...new Set(nodes.map(runIdOf).filter((id): id is string => id !== undefined))];
}

/** Reads the runs (each whole metrics.jsonl) and shapes the page's one message; runs that cannot
 * be read are left out and named in `missing`. */
export async function compareMessage(reader: RunReader, runIds: readonly string[]): Promise<{ message: HostToCompareMessage; missing: string[] }> {
  const details = await Promise.all(runIds.map((id) => reader.readRun(id).catch(() => undefined)));
  const missing = runIds.filter((_, i) => !details[i]);
  const found = details.filter((d) => d !== undefined);
  const runs = await Promise.all(found.map(async (d) => compareRunOf(d, await readMetricsLines(d.dir))));
  return { message: { type: "compare", runs, table: robustnessTable(runs), diff: configDiff(found.map((d) => d.config)) }, missing };
}
