import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RunManager, type ManagerEvent } from "../../src/daemon/runManager";
import { readManifest, runsDirOf } from "../../src/daemon/runStore";
import { CancelFlag } from "../../src/daemon/cancelFlag";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "./helpers";

const managers: RunManager[] = [];
after(async () => {
  for (const m of managers) await m.shutdown();
});

function setup(useWorkers: boolean) {
  const ws = tempWorkspace("hyperat-cancel-");
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers, idleWorkerMs: 10 });
  managers.push(manager);
  const events = new Collector<ManagerEvent>();
  manager.onEvent(events.push);
  return { ws, manager, events };
}

const isStatus = (runId: string, state: string) => (e: ManagerEvent) => e.type === "status" && e.runId === runId && e.state === state;
const progressOf = (events: Collector<ManagerEvent>, runId: string, operation: string) =>
  events.events.filter((e): e is Extract<ManagerEvent, { type: "progress" }> => e.type === "progress" && e.runId === runId && e.operation === operation);

describe("CancelFlag", () => {
  test("a raised id aborts only that call's signal, seen through a second view of the same buffer", () => {
    const owner = new CancelFlag();
    const worker = new CancelFlag(owner.buffer);
    const s1 = worker.signalFor(1);
    const s2 = worker.signalFor(2);
    assert.equal(s1.aborted, false);
    owner.raise(2);
    assert.deepEqual([s1.aborted, s2.aborted], [false, true]);
  });
});

describe("cancelling merge and evaluation", () => {
  test("cancel stops an evaluation between batches: no report, the run returns to its state, the request fails", async () => {
    const { ws, manager, events } = setup(false);
    const id = await manager.start(writeConfig(ws, "ev", { steps: 2, evalBatches: 200, opMs: 5 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const evaluation = manager.evaluate(id, "quick");
    evaluation.catch(() => {}); // it may fail before cancel answers; asserted below
    await events.waitFor((e) => e.type === "progress" && e.runId === id && e.value.kind === "report", "first batch");
    const summary = await manager.cancel(id);
    assert.equal(summary.state, "completed");
    await assert.rejects(evaluation, (e: Error) => e.name === "OperationCancelledError" && e.message.includes(id));
    const dir = path.join(runsDirOf(ws), id);
    assert.ok(!fs.existsSync(path.join(dir, "report.json")) && !fs.existsSync(path.join(dir, "report.md")), "nothing written");
    assert.equal((await readManifest(dir)).state, "completed");
    const progress = progressOf(events, id, "evaluate");
    assert.equal(progress[0].value.kind === "begin" && progress[0].value.cancellable, true);
    assert.deepEqual(progress.at(-1)!.value, { kind: "end", message: "cancelled" });
    const reports = progress.filter((p) => p.value.kind === "report").length;
    assert.ok(reports < 200, `stopped early (${reports} of 200 batches)`);
    // The run is usable afterwards: a full evaluation still works.
    await manager.evaluate(id, "quick").catch(() => assert.fail("second evaluation failed"));
  });

  test("stop while evaluating cancels the evaluation; cancel on a run doing nothing is an InvalidState error", async () => {
    const { ws, manager, events } = setup(false);
    const id = await manager.start(writeConfig(ws, "stop", { steps: 2, evalBatches: 200, opMs: 5 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    await assert.rejects(manager.cancel(id), (e: Error) => e.name === "InvalidStateError" && e.message.includes("cancel"));
    const evaluation = manager.evaluate(id);
    evaluation.catch(() => {}); // it may fail before stop answers; asserted below
    await events.waitFor(isStatus(id, "evaluating"), "evaluating");
    assert.equal((await manager.stop(id)).state, "completed");
    await assert.rejects(evaluation, (e: Error) => e.name === "OperationCancelledError");
  });

  test("a merge in a synchronous loop inside a worker thread is cancelled through the shared flag; no merged file", async () => {
    const { ws, manager, events } = setup(true);
    const id = await manager.start(writeConfig(ws, "mg", { steps: 2, mergeSteps: 400, opMs: 10 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const merge = manager.merge(id, "adaptive");
    merge.catch(() => {}); // it may fail before cancel answers; asserted below
    await events.waitFor((e) => e.type === "progress" && e.runId === id && e.operation === "merge" && e.value.kind === "report", "first λ step");
    await manager.cancel(id);
    await assert.rejects(merge, (e: Error) => e.name === "OperationCancelledError");
    assert.ok(!fs.existsSync(path.join(runsDirOf(ws), id, "merged", "model-adaptive.safetensors")));
    const steps = progressOf(events, id, "merge").filter((p) => p.value.kind === "report").length;
    assert.ok(steps < 400, `stopped early (${steps} of 400 λ steps)`);
  });

  test("merge and evaluate are allowed on an interrupted run, as the shared state table says", async () => {
    const { ws, manager, events } = setup(false);
    const id = await manager.start(writeConfig(ws, "int", { steps: 2 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    await manager.shutdown();
    const dir = path.join(runsDirOf(ws), id);
    const m = await readManifest(dir);
    // A run.json left "evaluating" by a process that is gone reads as interrupted.
    fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify({ ...m, state: "evaluating", owner: { pid: 2 ** 22 + 7, instance: "gone", startedAt: m.createdAt } }));
    const again = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false });
    managers.push(again);
    const ev = await again.evaluate(id, "quick");
    assert.equal(ev.records.length, 4);
    assert.equal((await again.get(id)).state, "stopped");
  });
});
