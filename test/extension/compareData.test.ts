import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareMessage, compareRunOf, configDiff, evaluationsOf, flattenConfig, keptSteps, robustnessTable, runIdsFromArgs as idsFrom } from "../../src/extension/compareData";
import { isCompareToHostMessage, isHostToCompareMessage } from "../../src/protocol/compare";
import type { MetricsLine, RunDetail } from "../../src/protocol/runs";

const time = "2026-12-02T00:00:00Z";
const step = (s: number, loss = s / 10): MetricsLine => ({ kind: "step", time, step: s, totalSteps: 10, defense: "pgd", loss, cleanAcc: 0.5, advAcc: 0.25, lr: 1e-3, seconds: 0.1 });
const val = (s: number, target: string, worst: number): MetricsLine => ({ kind: "validation", time, step: s, target, cleanAccuracy: 0.8, robustAccuracy: { "pgd-2": worst }, worstCaseRobustAccuracy: worst });

test("keptSteps drops the steps of an attempt a resume superseded, and re-logged steps", () => {
  const lines: MetricsLine[] = [step(1), step(2), step(3), step(4), { kind: "resume", time, fromStep: 2 }, step(3, 9), step(4, 8), step(4, 7), step(5)];
  const kept = keptSteps(lines);
  assert.deepEqual(kept.step, [1, 2, 3, 4, 5]);
  assert.deepEqual(kept.loss, [0.1, 0.2, 9, 7, 0.5]);
  assert.deepEqual([kept.cleanAcc.length, kept.advAcc.length, kept.lr.length], [5, 5, 5]);
});

test("robustness table: final is the last test evaluation (else the last validation), best the highest", () => {
  const lines: MetricsLine[] = [
    val(10, "uniform", 0.3), val(20, "uniform", 0.5), val(30, "uniform", 0.4), val(20, "pgd", 0.2),
    { kind: "evaluationReport", time, reportPath: "r", records: [
      { step: 30, target: "uniform", cleanAccuracy: 0.7, robustAccuracy: {}, worstCaseRobustAccuracy: 0.45 },
      { step: 30, target: "pretrained", cleanAccuracy: 0.9, robustAccuracy: {}, worstCaseRobustAccuracy: 0.05 },
    ] },
  ];
  const evs = evaluationsOf(lines);
  assert.deepEqual(evs.map((e) => e.split), ["val", "val", "val", "val", "test", "test"]);
  const run = compareRunOf({ id: "r1", name: "demo", state: "completed", method: "hyperat", best: { target: "uniform" } } as unknown as RunDetail, lines);
  const rows = robustnessTable([run]);
  assert.deepEqual(rows.map((r) => r.target), ["uniform", "pgd", "pretrained"]);
  assert.deepEqual(rows[0].final, { worstCase: 0.45, clean: 0.7, split: "test", step: 30 });
  assert.deepEqual(rows[0].best, { worstCase: 0.5, split: "val", step: 20 });
  assert.deepEqual(rows[1].final, { worstCase: 0.2, clean: 0.8, split: "val", step: 20 });
  assert.deepEqual(rows[2].best, { worstCase: 0.05, split: "test", step: 30 });
  assert.equal(run.bestTarget, "uniform");
});

test("config diff lists only the fields that differ, absent fields included, $schema ignored", () => {
  const a = { $schema: "x", name: "demo", seed: 1, training: { steps: 200, lr: 1e-3 }, defenses: [{ name: "pgd" }, { name: "trades", beta: 6 }] };
  const b = { $schema: "y", name: "demo", seed: 2, training: { steps: 200, lr: 1e-3 }, defenses: [{ name: "pgd" }, { name: "trades", beta: 3 }], extra: [] };
  assert.deepEqual(configDiff([a, b]), [
    { path: "seed", values: ["1", "2"] },
    { path: "defenses[1].beta", values: ["6", "3"] },
    { path: "extra", values: [undefined, "[]"] },
  ]);
  assert.deepEqual(configDiff([a, structuredClone(a)]), []);
  assert.deepEqual([...flattenConfig({ s: "8/255", n: null, o: {} })], [["s", '"8/255"'], ["n", "null"], ["o", "{}"]]);
});

test("the tree's multi-selection gives distinct run ids; a palette call gives none", () => {
  const runIdsFromArgs = (c: unknown, s: unknown) => idsFrom(c, s, (n) => (n as { runId?: string } | undefined)?.runId);
  const a = { runId: "r1", contextValue: "hyperat.run.completed" };
  const b = { runId: "r2", contextValue: "hyperat.run.paused" };
  const bChild = { runId: "r2", contextValue: "hyperat.defense" };
  assert.deepEqual(runIdsFromArgs(a, [a, b, bChild]), ["r1", "r2"]);
  assert.deepEqual(runIdsFromArgs(a, undefined), ["r1"]);
  assert.deepEqual(runIdsFromArgs(undefined, undefined), []);
});

test("compare messages are validated both ways", () => {
  const run = compareRunOf({ id: "r1", name: "demo", state: "completed", method: "hyperat" } as unknown as RunDetail, [step(1)]);
  assert.ok(isHostToCompareMessage({ type: "compare", runs: [run], table: [], diff: [{ path: "seed", values: ["1"] }] }));
  assert.ok(!isHostToCompareMessage({ type: "compare", runs: [run], table: [], diff: [{ path: "seed", values: ["1", "2"] }] }), "one value per run");
  assert.ok(!isHostToCompareMessage({ type: "compare", runs: [{ ...run, steps: { ...run.steps, loss: [] } }], table: [], diff: [] }), "parallel arrays of one length");
  assert.ok(isCompareToHostMessage({ type: "export", format: "csv", name: "loss", data: "run,step\n" }));
  assert.ok(isCompareToHostMessage({ type: "export", format: "png", name: "loss", data: "data:image/png;base64,AAAA" }));
  assert.ok(!isCompareToHostMessage({ type: "export", format: "png", name: "loss", data: "data:text/html,<script>" }));
  assert.ok(!isCompareToHostMessage({ type: "export", format: "csv", name: "../../etc/passwd", data: "" }), "names cannot carry paths");
  assert.ok(!isCompareToHostMessage({ type: "export", format: "exe", name: "x", data: "" }));
});

test("compareMessage reads each run's whole metrics.jsonl, names unreadable runs, and the result is a valid message", async () => {
  const root = mkdtempSync(join(tmpdir(), "hyperat-compare-"));
  const details = new Map<string, RunDetail>();
  for (const [id, seed, n] of [["r1", 0, 700], ["r2", 1, 3]] as const) {
    const dir = join(root, id);
    mkdirSync(dir);
    // 700 steps: more than RunDetail's 500 recent metrics, so the panel must read the file.
    const lines = [...Array.from({ length: n }, (_, i) => step(i + 1)), val(n, "uniform", 0.1 * (seed + 1))];
    writeFileSync(join(dir, "metrics.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n{\"kind\":\"st");
    details.set(id, { id, name: "demo", state: "paused", method: "hyperat", dir, config: { name: "demo", seed } } as unknown as RunDetail);
  }
  const reader = { listRuns: async () => [], readRun: async (id: string) => details.get(id) };
  const { message, missing } = await compareMessage(reader, ["r1", "gone", "r2"]);
  assert.deepEqual(missing, ["gone"]);
  assert.ok(isHostToCompareMessage(message));
  assert.deepEqual(message.runs.map((r) => [r.id, r.steps.step.length]), [["r1", 700], ["r2", 3]]);
  assert.deepEqual(message.diff, [{ path: "seed", values: ["0", "1"] }]);
  assert.deepEqual(message.table.map((r) => [r.runId, r.target, r.best?.worstCase]), [["r1", "uniform", 0.1], ["r2", "uniform", 0.2]]);
});

test("a renamed run is named by its display name in the table; the page gets it beside the id", () => {
  const lines: MetricsLine[] = [{ kind: "validation", time: "t", step: 10, target: "uniform", cleanAccuracy: 0.8, robustAccuracy: {}, worstCaseRobustAccuracy: 0.4 }];
  const renamed = compareRunOf({ id: "r1", name: "demo", state: "completed", method: "hyperat", annotations: { displayName: "eps 8 baseline", tags: [] } } as unknown as RunDetail, lines);
  const plain = compareRunOf({ id: "r2", name: "demo", state: "completed", method: "hyperat" } as unknown as RunDetail, lines);
  assert.equal(renamed.displayName, "eps 8 baseline");
  assert.equal("displayName" in plain, false);
  assert.deepEqual(robustnessTable([renamed, plain]).map((r) => [r.runId, r.runName]), [["r1", "eps 8 baseline"], ["r2", "demo"]]);
  assert.ok(isHostToCompareMessage({ type: "compare", runs: [renamed, plain], table: [], diff: [] }));
  assert.ok(!isHostToCompareMessage({ type: "compare", runs: [{ ...renamed, displayName: 3 }], table: [], diff: [] }), "a display name is a string");
});
