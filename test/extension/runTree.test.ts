import { test, describe } from "node:test";
import assert from "node:assert/strict";
import type { RunDetail, RunSummary } from "../../src/protocol/runs";
import { baseModelRow, defenseFacts, groupChildren, mergedLabel, modelContextValue, runDescription, runGroups, runLabel, runNode, shortTime, tagsText } from "../../src/extension/runTree";
import { runTitle } from "../../src/extension/runNotices";

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
  test("a run row: name and local start time as label, the id in the tooltip; state, step, config file and best", () => {
    const created = new Date(summary.createdAt);
    const n = runNode(summary, {}, created);
    assert.equal(n.label, `demo · ${String(created.getHours()).padStart(2, "0")}:${String(created.getMinutes()).padStart(2, "0")}`);
    assert.equal(n.description, "paused · step 40/200 · demo.hyperat.json · best 41.2% (uniform, val pgd-10, step 40)");
    assert.equal(n.contextValue, "hyperat.run.paused");
    assert.equal(n.icon, "debug-pause");
    assert.equal(n.collapsible, "collapsed");
    assert.match(n.tooltip ?? "", /^demo \(20261126-104455-demo-3f9a\)$/m);
    assert.match(n.tooltip ?? "", /hyperat: pgd-at, trades, mart/);
  });

  test("the row shows the phase: pretraining n/N, training n/N, validating, merging %", () => {
    const running = { ...summary, state: "running" as const, step: 0, best: undefined };
    const pre = { operation: "prepare", title: "Preparing r: clean pretraining", message: "step 12/60, loss 2.301", percentage: 20 };
    assert.equal(runDescription(running, { operation: pre }), "pretraining 12/60 · demo.hyperat.json");
    assert.equal(runDescription({ ...running, step: 7 }), "training 7/200 · demo.hyperat.json");
    assert.equal(runDescription({ ...running, step: 50 }, { operation: { operation: "validate", title: "Validating r at step 50" } }), "validating at step 50 · demo.hyperat.json");
    assert.equal(runDescription({ ...summary, state: "merging", best: undefined }, { operation: { operation: "merge", title: "Merging", percentage: 41.6 } }), "merging 42% · demo.hyperat.json");
    assert.equal(runDescription({ ...running, state: "queued" }, { daemonStarting: true }), "daemon starting · demo.hyperat.json");
    assert.equal(runDescription({ state: "running", step: 0, totalSteps: 5 }), "training 0/5");
  });

  test("warnings mark the row and lead the tooltip; a settled run's icon becomes a warning", () => {
    const w = ["loss flat at 2.303 for 40 steps"];
    const n = runNode({ ...summary, state: "completed" }, { warnings: w });
    assert.match(n.description ?? "", /^⚠ completed · step 40\/200/);
    assert.equal(n.tooltip?.split("\n")[0], "⚠ loss flat at 2.303 for 40 steps");
    assert.equal(n.icon, "warning");
    assert.equal(runNode({ ...summary, state: "running" }, { warnings: w }).icon, "sync~spin");
  });

  test("shortTime: HH:MM today, MM-DD HH:MM another day, empty for a bad time", () => {
    const now = new Date(2026, 11, 2, 15, 0);
    assert.equal(shortTime(new Date(2026, 11, 2, 7, 9).toISOString(), now), "07:09");
    assert.equal(shortTime(new Date(2026, 11, 1, 23, 59).toISOString(), now), "12-01 23:59");
    assert.equal(shortTime("not a time", now), "");
    assert.equal(runNode({ ...summary, createdAt: "?" }).label, "demo");
  });

  test("a renamed run is labelled by its display name; its id and config name stay in the tooltip", () => {
    const renamed = { ...summary, annotations: { displayName: "eps 8 baseline", tags: [] } };
    const n = runNode(renamed);
    assert.equal(n.label, "eps 8 baseline");
    assert.equal(n.id, `run:${summary.id}`, "the id does not change");
    assert.match(n.tooltip ?? "", /^eps 8 baseline$/m);
    assert.match(n.tooltip ?? "", /^demo \(20261126-104455-demo-3f9a\)$/m);
    assert.equal(runTitle(renamed), "eps 8 baseline", "notices and pick lists say it too");
  });

  test("clearing the display name brings back name · HH:MM", () => {
    const created = new Date(summary.createdAt);
    const hm = `${String(created.getHours()).padStart(2, "0")}:${String(created.getMinutes()).padStart(2, "0")}`;
    assert.equal(runLabel({ ...summary, annotations: { tags: ["x"] } }, created), `demo · ${hm}`);
    assert.equal(runLabel({ ...summary, annotations: undefined }, created), `demo · ${hm}`);
  });

  test("tags lead the description (the end of a long one is cut off) and are listed in the tooltip", () => {
    const tagged = { ...summary, annotations: { tags: ["baseline", "eps8"] } };
    const n = runNode(tagged);
    assert.equal(n.description, "#baseline #eps8 · paused · step 40/200 · demo.hyperat.json · best 41.2% (uniform, val pgd-10, step 40)");
    assert.match(n.tooltip ?? "", /^tags: baseline, eps8$/m);
    assert.equal(tagsText([]), "");
    assert.equal(runNode({ ...summary, annotations: { tags: [] } }).description, runNode(summary).description, "no tags, no prefix");
    assert.match(runDescription(tagged, { warnings: ["w"] }), /^#baseline #eps8 · ⚠ paused/);
  });

  test("the note goes with the row for the Markdown tooltip; a row without one has none", () => {
    assert.equal(runNode({ ...summary, annotations: { tags: [], note: "**lr** too high?" } }).note, "**lr** too high?");
    assert.equal(runNode(summary).note, undefined);
  });

  test("an ignored annotations.json is named in the tooltip; the row still shows", () => {
    const n = runNode({ ...summary, annotationsProblem: "/ws/.hyperat/runs/x/annotations.json: not valid JSON: Unexpected token" });
    assert.equal(n.label.startsWith("demo"), true);
    assert.match(n.tooltip ?? "", /^⚠ \/ws\/\.hyperat\/runs\/x\/annotations\.json: not valid JSON/m);
  });

  test("under a config group the row leaves the config file out of its description", () => {
    assert.equal(runNode(summary, {}, new Date(), { underConfigGroup: true }).description, "paused · step 40/200 · best 41.2% (uniform, val pgd-10, step 40)");
  });

  test("groups count what is in the folder; empty groups cannot expand", () => {
    const groups = runGroups(detail);
    assert.deepEqual(groups.map((g) => [g.label, g.description, g.collapsible]), [
      ["Defenses", "3", "collapsed"],
      ["Checkpoints", "2", "collapsed"],
      ["Base model", undefined, "none"],
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

  test("merged model rows name the strategy they hold", () => {
    assert.deepEqual(mergedLabel("merged/adaptive/model.safetensors"), { label: "adaptive merge", description: "merged/adaptive/model.safetensors" });
    assert.deepEqual(mergedLabel("merged/model-uniform.safetensors"), { label: "uniform merge", description: "merged/model-uniform.safetensors" });
    assert.deepEqual(mergedLabel("merged/model.safetensors"), { label: "model.safetensors", description: "merged" });
    assert.equal(groupChildren(detail, "merged")[0].label, "model.safetensors");
  });

  test("adapter and merge rows carry their model and a context value with the run's state; other files stay plain", () => {
    const d: RunDetail = {
      ...detail,
      state: "completed",
      artifacts: {
        ...detail.artifacts,
        adapters: ["adapters/pgd-at.safetensors", "adapters/pgd-at/adapter_model.safetensors"],
        merged: ["merged/model-adaptive.safetensors", "merged/uniform/model.safetensors"],
        reports: ["report.md", "reports/merged-uniform-2026-12-03T10-19-00-123Z/report.md"],
      },
    };
    const rows = (["adapters", "merged", "reports"] as const).flatMap((k) => groupChildren(d, k));
    assert.deepEqual(rows.map((r) => [r.label, r.contextValue, r.model]), [
      ["pgd-at.safetensors", "hyperat.file", undefined],
      ["adapter_model.safetensors", "hyperat.model.adapter.completed", { kind: "adapter", defense: "pgd-at" }],
      ["adaptive merge", "hyperat.model.merged.completed", { kind: "merged", strategy: "adaptive" }],
      ["uniform merge", "hyperat.model.merged.completed", { kind: "merged", strategy: "uniform" }],
      ["report.md", "hyperat.report", undefined],
      ["report.md", "hyperat.report", undefined],
    ]);
    assert.equal(rows[3].file, `${summary.dir}/merged/uniform/model.safetensors`);
    assert.equal(rows[5].description, "reports/merged-uniform-2026-12-03T10-19-00-123Z");
    assert.equal(groupChildren({ ...d, state: "running" }, "merged")[1].contextValue, modelContextValue("merged", "running"));
  });

  test("the base model is a row of its own: Evaluate This Model reaches it; it says its clean accuracy when the run measured it", () => {
    const row = runGroups({ ...detail, state: "stopped" }).find((g) => g.label === "Base model")!;
    assert.deepEqual([row.contextValue, row.model, row.file, row.collapsible], ["hyperat.model.base.stopped", { kind: "base" }, undefined, "none"]);
    const measured = baseModelRow({ ...detail, baseModel: { source: "pretrain cache", cleanAccuracy: 0.156, n: 64, numClasses: 10, nearChance: true, hint: "raise model.pretrain.steps" } });
    assert.equal(measured.description, "clean 15.6% (val, n=64)");
    assert.equal(measured.tooltip, "pretrain cache\nnear chance: raise model.pretrain.steps");
  });

  test("ids are unique across the whole tree", () => {
    const ids = [runNode(summary), ...runGroups(detail), ...(["defenses", "checkpoints", "adapters", "merged", "reports"] as const).flatMap((k) => groupChildren(detail, k))].map((n) => n.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});
