// "Evaluate This Model" (issue 16 item 5) through the RunManager on the fake engine: the report of
// one model goes to reports/<model>-<time>/, the run's report.json is untouched, a model the run
// lacks is InvalidParams naming it, the state rules hold, and a cancel leaves nothing.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RunManager, type ManagerEvent } from "../../src/daemon/runManager";
import { readManifest, readMetricsLines, readRunDetail, runsDirOf } from "../../src/daemon/runStore";
import { modelParam } from "../../src/daemon/rpcErrors";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "./helpers";

const managers: RunManager[] = [];
after(async () => {
  for (const m of managers) await m.shutdown();
});

function setup() {
  const ws = tempWorkspace("hyperat-model-");
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false });
  managers.push(manager);
  const events = new Collector<ManagerEvent>();
  manager.onEvent(events.push);
  return { ws, manager, events };
}

const isStatus = (runId: string, state: string) => (e: ManagerEvent) => e.type === "status" && e.runId === runId && e.state === state;

/** A completed fake run with a uniform merge and a full report. */
async function evaluatedRun(extra: Record<string, unknown> = {}) {
  const s = setup();
  const id = await s.manager.start(writeConfig(s.ws, "m", { steps: 2, ...extra }));
  await s.events.waitFor(isStatus(id, "completed"), "completed");
  await s.manager.merge(id, "uniform");
  await s.manager.evaluate(id, "quick");
  return { ...s, id, dir: path.join(runsDirOf(s.ws), id) };
}

describe("evaluating one model of a run", () => {
  test("the merged model's report goes to reports/merged-uniform-<time>/ with its model field; the run's report is untouched", async () => {
    const { manager, id, dir } = await evaluatedRun();
    const runReport = fs.readFileSync(path.join(dir, "report.json"));
    const runMd = fs.readFileSync(path.join(dir, "report.md"));
    const ev = await manager.evaluate(id, undefined, "latest", { kind: "merged", strategy: "uniform" });
    assert.match(path.relative(dir, ev.reportPath), /^reports\/merged-uniform-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z\/report\.json$/);
    const written = JSON.parse(fs.readFileSync(ev.reportPath, "utf8")) as { model: unknown; models: Array<{ target: string }> };
    assert.deepEqual(written.model, { kind: "merged", strategy: "uniform" });
    assert.deepEqual(written.models.map((m) => m.target), ["uniform"]);
    assert.ok(fs.existsSync(path.join(path.dirname(ev.reportPath), "report.md")));
    assert.deepEqual(fs.readFileSync(path.join(dir, "report.json")), runReport, "run report.json byte-identical");
    assert.deepEqual(fs.readFileSync(path.join(dir, "report.md")), runMd, "run report.md byte-identical");
    assert.deepEqual(ev.records.map((r) => r.target), ["uniform"]);
    // metrics.jsonl says which model the report is of; the tree lists the new report.
    const line = (await readMetricsLines(dir)).filter((l) => l.kind === "evaluationReport").at(-1)!;
    assert.ok(line.kind === "evaluationReport" && line.reportPath === ev.reportPath);
    assert.deepEqual(line.kind === "evaluationReport" && line.model, { kind: "merged", strategy: "uniform" });
    const detail = await readRunDetail(dir);
    assert.equal(detail.state, "completed");
    assert.deepEqual(detail.artifacts.reports, ["report.json", "report.md", path.relative(dir, path.join(path.dirname(ev.reportPath), "report.md"))]);
  });

  test("an adapter and the base model evaluate alone too", async () => {
    const { manager, id } = await evaluatedRun();
    const adapter = await manager.evaluate(id, undefined, "latest", { kind: "adapter", defense: "trades" });
    assert.deepEqual(adapter.report.models.map((m) => m.target), ["trades"]);
    assert.match(adapter.reportPath, /reports\/adapter-trades-[^/]+\/report\.json$/);
    const base = await manager.evaluate(id, undefined, "latest", { kind: "base" });
    assert.match(base.reportPath, /reports\/base-[^/]+\/report\.json$/);
    assert.notEqual(path.dirname(adapter.reportPath), path.dirname(base.reportPath));
  });

  test("a model the run lacks is InvalidParams naming it and what the run has; the run does not change state", async () => {
    const { manager, id, dir } = await evaluatedRun();
    const before = (await readManifest(dir)).state;
    await assert.rejects(manager.evaluate(id, undefined, "latest", { kind: "merged", strategy: "adaptive" }), (e: Error) =>
      e.name === "InvalidParamsError" && e.message.includes("merged-adaptive") && e.message.includes(id) && e.message.includes("merged-uniform") && e.message.includes("adapter-pgd-at"));
    await assert.rejects(manager.evaluate(id, undefined, "latest", { kind: "adapter", defense: "awp" }), (e: Error) => e.name === "InvalidParamsError" && e.message.includes("adapter-awp"));
    assert.equal((await readManifest(dir)).state, before);
    assert.ok(!fs.existsSync(path.join(dir, "reports")), "no report folder");
  });

  test("full-at has no adapters to evaluate alone", async () => {
    const { manager, id } = await evaluatedRun({ method: "full-at" });
    await assert.rejects(manager.evaluate(id, undefined, "latest", { kind: "adapter", defense: "pgd-at" }), (e: Error) => e.name === "InvalidParamsError" && /its models: base, merged-uniform$/.test(e.message));
  });

  test("the run's state rules apply: a running run is InvalidState, even for a model it lacks", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "r", { steps: 40, stepMs: 10 }));
    await events.waitFor((e) => e.type === "metrics" && e.runId === id, "first step");
    await assert.rejects(manager.evaluate(id, undefined, "latest", { kind: "base" }), (e: Error) => e.name === "InvalidStateError" && e.message.includes(id));
    await assert.rejects(manager.evaluate(id, undefined, "latest", { kind: "merged", strategy: "nope" }), (e: Error) => e.name === "InvalidStateError");
    await manager.stop(id);
  });

  test("cancel leaves no report folder and the run where it was", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "c", { steps: 2, evalBatches: 200, opMs: 5 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const from = events.events.length;
    const evaluation = manager.evaluate(id, undefined, "latest", { kind: "adapter", defense: "mart" });
    evaluation.catch(() => {}); // asserted below
    await events.waitFor((e) => events.events.indexOf(e) >= from && e.type === "progress" && e.runId === id && e.value.kind === "report", "first batch");
    await manager.cancel(id);
    await assert.rejects(evaluation, (e: Error) => e.name === "OperationCancelledError");
    const dir = path.join(runsDirOf(ws), id);
    assert.ok(!fs.existsSync(path.join(dir, "reports")), "nothing written, not even a temp folder");
    assert.equal((await readManifest(dir)).state, "completed");
  });
});

describe("params.model of hyperat/run.evaluate", () => {
  test("absent means every model; a selector passes; anything else is InvalidParams saying what is wrong", () => {
    assert.equal(modelParam("m", undefined), undefined);
    assert.deepEqual(modelParam("m", { kind: "merged", strategy: "uniform", extra: 1 }), { kind: "merged", strategy: "uniform" });
    assert.deepEqual(modelParam("m", { kind: "base" }), { kind: "base" });
    const bad: Array<[unknown, RegExp]> = [
      ["merged", /params\.model must be/],
      [{ kind: "lora" }, /params\.model\.kind must be "base", "adapter" or "merged", got "lora"/],
      [{ kind: "adapter" }, /params\.model\.defense must be a name/],
      [{ kind: "merged", strategy: "../../etc" }, /params\.model\.strategy must be a name/],
      [{ kind: "adapter", defense: ".hidden" }, /params\.model\.defense/],
    ];
    for (const [v, re] of bad) assert.throws(() => modelParam("hyperat/run.evaluate", v), (e: Error) => e.name === "InvalidParamsError" && re.test(e.message) && e.message.startsWith("hyperat/run.evaluate: "), JSON.stringify(v));
  });
});
