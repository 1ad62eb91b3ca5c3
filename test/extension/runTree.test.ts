import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { RunDetail, RunSummary } from "../../src/protocol/runs";
import { defenseFacts, groupChildren, runDescription, runGroups, runNode } from "../../src/extension/runTree";

const summary: RunSummary = {
  id: "20261126-104455-demo-3f9a",
  name: "demo",
  configPath: "/ws/demo.hyperat.json",
  dir: "/ws/.hyperat/runs/20261126-104455-demo-3f9a",
  state: "paused",
  step: 40,
  totalSteps: 200,
  method: "hyperat",
  defenses: ["pgd-at", "trades", "mart"],
  bestRobustAccuracy: 0.4123,
  best: { target: "uniform", split: "val", attack: "pgd-10", step: 40, worstCaseRobustAccuracy: 0.4123, cleanAccuracy: 0.6 },
  createdAt: "2026-11-26T10:44:55Z",
  updatedAt: "2026-11-26T10:50:00Z",
};

const detail: RunDetail = {
  ...summary,
  config: {},
  recentMetrics: [],
  loraNorms: [],
  evaluations: [
    { step: 20, target: "trades", cleanAccuracy: 0.8, robustAccuracy: { "pgd-10": 0.3 }, worstCaseRobustAccuracy: 0.3 },
    { step: 20, target: "uniform", cleanAccuracy: 0.8, robustAccuracy: { "pgd-10": 0.5 }, worstCaseRobustAccuracy: 0.5 },
    { step: 40, target: "trades", cleanAccuracy: 0.8, robustAccuracy: { "pgd-10": 0.35 }, worstCaseRobustAccuracy: 0.35 },
  ],
  merges: [],
  sampledCounts: { "pgd-at": 10, trades: 20, mart: 10 },
  artifacts: { checkpoints: ["checkpoints/step-20.safetensors", "checkpoints/step-40.safetensors"], adapters: [], merged: ["merged/model.safetensors"], reports: ["report.md"] },
};

describe("runTree", () => {
  test("a run row: id as label (it embeds the name), state, step/total and best robust accuracy", () => {
    const n = runNode(summary);
    assert.equal(n.label, summary.id);
    assert.equal(n.description, "paused · step 40/200 · best 41.2% (uniform, val pgd-10, step 40)");
    assert.equal(n.contextValue, "hyperat.run.paused");
    assert.equal(n.icon, "debug-pause");
    assert.equal(n.collapsible, "collapsed");
    assert.match(n.tooltip ?? "", /hyperat: pgd-at, trades, mart/);
  });

  test("a name the id does not contain is shown with the id; unknown best is omitted", () => {
    const n = runNode({ ...summary, name: "My Run", bestRobustAccuracy: undefined, best: undefined, state: "interrupted" });
    assert.equal(n.label, `My Run · ${summary.id}`);
    assert.equal(runDescription({ state: "running", step: 0, totalSteps: 5 }), "running · step 0/5");
    assert.equal(n.icon, "warning");
    assert.equal(n.contextValue, "hyperat.run.interrupted");
  });

  test("groups count what is in the folder; empty groups cannot expand", () => {
    const groups = runGroups(detail);
    assert.deepEqual(groups.map((g) => [g.label, g.description, g.collapsible]), [
      ["Defenses", "3", "collapsed"],
      ["Checkpoints", "2", "collapsed"],
      ["Adapters", "0", "none"],
      ["Merged models", "1", "collapsed"],
      ["Reports", "1", "collapsed"],
    ]);
  });

  test("defense rows: share of all sampled steps and the latest robust accuracy of that defense's LoRA", () => {
    assert.deepEqual(defenseFacts(detail), [
      { name: "pgd-at", share: 0.25, lastRobustAccuracy: undefined },
      { name: "trades", share: 0.5, lastRobustAccuracy: 0.35 },
      { name: "mart", share: 0.25, lastRobustAccuracy: undefined },
    ]);
    const rows = groupChildren(detail, "defenses");
    assert.deepEqual(rows.map((r) => r.description), ["sampled 25% · robust –", "sampled 50% · robust 35.0%", "sampled 25% · robust –"]);
  });

  test("file rows carry absolute paths; reports are openable", () => {
    const cps = groupChildren(detail, "checkpoints");
    assert.equal(cps[1].label, "step-40.safetensors");
    assert.equal(cps[1].file, `${summary.dir}/checkpoints/step-40.safetensors`);
    assert.equal(cps[1].contextValue, "hyperat.file");
    const [report] = groupChildren(detail, "reports");
    assert.equal(report.contextValue, "hyperat.report");
    assert.equal(report.file, `${summary.dir}/report.md`);
  });

  test("ids are unique across the whole tree", () => {
    const ids = [runNode(summary), ...runGroups(detail), ...(["defenses", "checkpoints", "adapters", "merged", "reports"] as const).flatMap((k) => groupChildren(detail, k))].map((n) => n.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});
