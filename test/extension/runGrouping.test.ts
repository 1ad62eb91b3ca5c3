import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { RunState, RunSummary } from "../../src/protocol/runs";
import { RUN_GROUPINGS, configGroupNode, groupCounts, groupRunsByConfig, isRunGrouping } from "../../src/extension/runGrouping";

function run(id: string, configPath: string | undefined, state: RunState = "completed"): RunSummary {
  return {
    id, name: "demo", configPath: configPath as string, dir: `/ws/.hyperat/runs/${id}`, state, step: 1, totalSteps: 1,
    method: "hyperat", defenses: ["pgd-at"], createdAt: "2026-11-26T10:44:55Z", updatedAt: "2026-11-26T10:44:55Z",
  };
}

describe("runs grouped by config", () => {
  test("one group per config path, in the order of each group's newest run; runs keep their order", () => {
    const runs = [run("r5", "/ws/b.hyperat.json"), run("r4", "/ws/a.hyperat.json"), run("r3", "/ws/b.hyperat.json"), run("r2", "/ws/a.hyperat.json")];
    const groups = groupRunsByConfig(runs);
    assert.deepEqual(groups.map((g) => [g.configPath, g.runs.map((r) => r.id)]), [
      ["/ws/b.hyperat.json", ["r5", "r3"]],
      ["/ws/a.hyperat.json", ["r4", "r2"]],
    ]);
  });

  test("runs that record no config file (missing or blank) share the last group", () => {
    const groups = groupRunsByConfig([run("r3", undefined), run("r2", "/ws/a.hyperat.json"), run("r1", "  ")]);
    assert.deepEqual(groups.map((g) => [g.key, g.runs.map((r) => r.id)]), [["path:/ws/a.hyperat.json", ["r2"]], ["none", ["r3", "r1"]]]);
    const node = configGroupNode(groups[1]);
    assert.equal(node.label, "No config file");
    assert.equal(node.description, "2 runs");
    assert.equal(node.runId, "", "a group names no run, so run commands get nothing from it");
  });

  test("same file name in two folders: two groups with the same label, told apart by id and tooltip", () => {
    const [a, b] = groupRunsByConfig([run("r2", "/ws/x/demo.hyperat.json"), run("r1", "/ws/y/demo.hyperat.json")]).map(configGroupNode);
    assert.equal(a.label, "demo.hyperat.json");
    assert.equal(b.label, "demo.hyperat.json");
    assert.notEqual(a.id, b.id);
    assert.equal(a.tooltip, "Runs started from /ws/x/demo.hyperat.json");
  });

  test("group rows: counts with the active runs, expanded, a context value no run menu matches", () => {
    const [g] = groupRunsByConfig([run("r3", "/ws/a.hyperat.json", "running"), run("r2", "/ws/a.hyperat.json", "queued"), run("r1", "/ws/a.hyperat.json")]);
    const node = configGroupNode(g);
    assert.deepEqual([node.label, node.description, node.collapsible, node.contextValue, node.groupKey], ["a.hyperat.json", "3 runs · 2 active", "expanded", "hyperat.configGroup", "path:/ws/a.hyperat.json"]);
    assert.ok(!/^hyperat\.run\.([a-z]+)$/.test(node.contextValue));
    assert.equal(groupCounts([{ state: "failed" }]), "1 run");
    assert.deepEqual(groupRunsByConfig([]), []);
  });

  test("the setting's enum and the view toggles match the groupings the code knows", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    assert.deepEqual(pkg.contributes.configuration.properties["hyperat.runs.groupBy"].enum, [...RUN_GROUPINGS]);
    const toolbar = pkg.contributes.menus["view/title"] as Array<{ command: string; when: string }>;
    assert.match(toolbar.find((m) => m.command === "hyperat.groupRunsByConfig")!.when, /config\.hyperat\.runs\.groupBy != config/);
    assert.match(toolbar.find((m) => m.command === "hyperat.ungroupRuns")!.when, /config\.hyperat\.runs\.groupBy == config/);
    assert.ok(isRunGrouping("config") && isRunGrouping("none") && !isRunGrouping("folder") && !isRunGrouping(undefined));
  });
});
