import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RunDetail, RunSummary } from "../../src/protocol/runs";
import { LiveRuns, liveRunReader } from "../../src/extension/liveRuns";

const run = (state: RunSummary["state"], step: number): RunSummary => ({
  id: "r1",
  name: "demo",
  configPath: "/ws/demo.hyperat.json",
  dir: "/ws/.hyperat/runs/r1",
  state,
  step,
  totalSteps: 200,
  method: "hyperat",
  defenses: ["pgd-at", "trades"],
  createdAt: "2026-11-26T10:44:55Z",
  updatedAt: "2026-11-26T10:50:00Z",
});

describe("LiveRuns", () => {
  test("a running run shows the step the daemon last reported, not run.json's checkpoint step", () => {
    const live = new LiveRuns();
    live.status({ runId: "r1", state: "running", step: 10 });
    live.step("r1", 11);
    live.step("r1", 17);
    assert.equal(live.apply(run("running", 10)).step, 17);
  });

  test("after a resume from an earlier checkpoint the reported step may go down, and is shown", () => {
    const live = new LiveRuns();
    live.status({ runId: "r1", state: "running", step: 15 }); // paused at 15, checkpoint at 10
    live.step("r1", 11);
    assert.equal(live.apply(run("running", 15)).step, 11);
  });

  test("a state change other than running hands back to the disk, and late metrics do not revive it", () => {
    const live = new LiveRuns();
    live.status({ runId: "r1", state: "running", step: 0 });
    live.step("r1", 5);
    live.status({ runId: "r1", state: "paused", step: 5 });
    live.step("r1", 6);
    assert.equal(live.apply(run("running", 5)).step, 5);
  });

  test("only where the disk says running: a run the disk says completed keeps its disk step", () => {
    const live = new LiveRuns();
    live.status({ runId: "r1", state: "running", step: 0 });
    live.step("r1", 150);
    assert.equal(live.apply(run("completed", 200)).step, 200);
  });

  test("metrics for runs never reported running and everything after the daemon went away are ignored", () => {
    const live = new LiveRuns();
    live.step("r1", 9);
    assert.equal(live.apply(run("running", 3)).step, 3);
    live.status({ runId: "r1", state: "running", step: 3 });
    live.step("r1", 9);
    live.clear();
    assert.equal(live.apply(run("running", 3)).step, 3);
  });

  test("liveRunReader lays the live step over listed runs and run details, leaving the disk objects alone", async () => {
    const disk = run("running", 10);
    const detail = { ...disk, config: {}, recentMetrics: [], loraNorms: [], evaluations: [], merges: [], sampledCounts: {}, artifacts: { checkpoints: [], adapters: [], merged: [], reports: [] } } as RunDetail;
    const live = new LiveRuns();
    live.status({ runId: "r1", state: "running", step: 10 });
    live.step("r1", 13);
    const reader = liveRunReader({ listRuns: async () => [disk], readRun: async (id) => (id === "r1" ? detail : undefined) }, live);
    assert.deepEqual((await reader.listRuns()).map((r) => r.step), [13]);
    assert.equal((await reader.readRun("r1"))?.step, 13);
    assert.equal((await reader.readRun("r1"))?.artifacts, detail.artifacts);
    assert.equal(await reader.readRun("nope"), undefined);
    assert.equal(disk.step, 10);
  });
});
