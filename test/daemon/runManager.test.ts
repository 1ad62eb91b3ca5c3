import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { RunManager, type ManagerEvent } from "../../src/daemon/runManager";
import { readMetricsLines, readRunDetail, runsDirOf, writeManifest, readManifest } from "../../src/daemon/runStore";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "./helpers";
import { ANNOTATIONS_FILE, writeRunAnnotations } from "../../src/daemon/runAnnotations";

const managers: RunManager[] = [];
after(async () => {
  for (const m of managers) await m.shutdown();
});

function setup(opts: { maxConcurrentRuns?: number } = {}) {
  const ws = tempWorkspace();
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false, ...opts });
  managers.push(manager);
  const events = new Collector<ManagerEvent>();
  manager.onEvent(events.push);
  return { ws, manager, events };
}

const isStatus = (runId: string, state: string) => (e: ManagerEvent) => e.type === "status" && e.runId === runId && e.state === state;

/** Loss per step of the trajectory a run kept (after resume markers). */
async function losses(dir: string): Promise<number[]> {
  return (await readRunDetail(dir)).recentMetrics.map((m) => m.loss);
}

describe("RunManager with the fake engine (in-process)", () => {
  test("a run goes queued → running → completed with checkpoints every N steps and adapters", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "full", { steps: 6, checkpointEvery: 2 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const detail = await manager.get(id);
    assert.equal(detail.step, 6);
    assert.deepEqual(detail.artifacts.checkpoints.filter((f) => f.endsWith(".json")), ["checkpoints/step-2.json", "checkpoints/step-4.json", "checkpoints/step-6.json"]);
    assert.equal(detail.artifacts.adapters.length, 3);
    assert.equal(detail.recentMetrics.length, 6);
    assert.equal(Object.values(detail.sampledCounts).reduce((a, b) => a + b, 0), 6);
    const states = events.events.filter((e) => e.type === "status" && e.runId === id).map((e) => (e as { state: string }).state);
    assert.deepEqual([...new Set(states)], ["queued", "running", "completed"]);
    assert.equal(events.events.filter((e) => e.type === "metrics").length, 6);
    assert.equal(events.events.filter((e) => e.type === "loraNorms").length, 3);
    assert.equal((await readManifest(detail.dir)).state, "completed");
  });

  test("pause is acknowledged within one step with a checkpoint; resume continues the exact trajectory", async () => {
    const { ws, manager, events } = setup();
    const cfg = { steps: 8, checkpointEvery: 5, stepMs: 20, seed: 7 };
    const ref = await manager.start(writeConfig(ws, "ref", cfg));
    await events.waitFor(isStatus(ref, "completed"), "reference run completed");

    const id = await manager.start(writeConfig(ws, "paused", cfg));
    const at = await events.waitFor((e) => e.type === "metrics" && e.runId === id && e.step === 3, "step 3");
    assert.equal((await manager.pause(id)).state, "pausing");
    const paused = await events.waitFor(isStatus(id, "paused"), "paused");
    assert.ok(paused.type === "status" && paused.step <= (at as { step: number }).step + 1, `paused at ${JSON.stringify(paused)}`);
    const step = (paused as { step: number }).step;
    const dir = (await manager.get(id)).dir;
    assert.ok(fs.existsSync(path.join(dir, "checkpoints", `step-${step}.safetensors`)), "pause wrote a checkpoint");
    assert.equal((await readManifest(dir)).state, "paused");

    await manager.resume(id);
    await events.waitFor(isStatus(id, "completed"), "resumed run completed");
    assert.deepEqual(await losses(dir), await losses((await manager.get(ref)).dir));
    assert.ok((await readMetricsLines(dir)).some((l) => l.kind === "resume" && l.fromStep === step));
  });

  test("stop leaves a resumable run; pausing a queued run pauses it without training", async () => {
    const { ws, manager, events } = setup();
    const a = await manager.start(writeConfig(ws, "a", { steps: 5, stepMs: 20 }));
    const b = await manager.start(writeConfig(ws, "b", { steps: 5 }));
    assert.equal((await manager.pause(b)).state, "paused");
    await events.waitFor((e) => e.type === "metrics" && e.runId === a && e.step === 2, "step 2");
    await manager.stop(a);
    const stopped = await events.waitFor(isStatus(a, "stopped"), "stopped");
    assert.ok(stopped.type === "status" && stopped.step < 5);
    await manager.resume(a);
    await events.waitFor(isStatus(a, "completed"), "completed after stop");
    assert.equal((await manager.get(a)).recentMetrics.length, 5);
    assert.equal(events.events.some((e) => e.type === "metrics" && e.runId === b), false);
  });

  test("slow session preparation shows as begin/report/end progress; a quick one stays quiet", async () => {
    const { ws, manager, events } = setup();
    const slow = await manager.start(writeConfig(ws, "slow", { steps: 1, prepareSteps: 2 }));
    await events.waitFor(isStatus(slow, "completed"), "completed");
    const kinds = events.events.filter((e) => e.type === "progress" && e.runId === slow).map((e) => (e as { value: { kind: string } }).value);
    assert.deepEqual(kinds.map((v) => v.kind), ["begin", "report", "report", "end"]);
    assert.match((kinds[0] as { title?: string }).title ?? "", /^Preparing .*: pretraining$/);
    assert.equal((kinds[2] as { percentage?: number }).percentage, 100);
    const quick = await manager.start(writeConfig(ws, "quick", { steps: 1 }));
    await events.waitFor(isStatus(quick, "completed"), "completed");
    assert.equal(events.events.some((e) => e.type === "progress" && e.runId === quick), false);
  });

  test("a validation inside a step shows as a validate progress that ends with the step", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "val", { steps: 3, announceValidation: true }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const mine = events.events.filter((e) => e.runId === id && (e.type === "progress" || e.type === "evaluation"));
    const seq = mine.map((e) => (e.type === "progress" ? `${e.operation}:${e.value.kind}` : "evaluation"));
    assert.deepEqual(seq, ["validate:begin", "evaluation", "validate:end"]);
    const begin = mine[0] as Extract<ManagerEvent, { type: "progress" }>;
    assert.ok(begin.value.kind === "begin" && begin.value.title === `Validating ${id} at step 3` && !begin.value.cancellable);
    // The phase is not a metrics line: metrics.jsonl holds measurements only.
    assert.equal((await readMetricsLines((await manager.get(id)).dir)).some((l) => (l.kind as string) === "validating"), false);
  });

  test("the base model's clean accuracy is notified, logged as a warning near chance and kept in the run detail", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "base", { steps: 2, baseModelAccuracy: 0.156 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const note = events.events.find((e) => e.type === "baseModel" && e.runId === id);
    assert.ok(note && note.type === "baseModel" && note.nearChance && note.cleanAccuracy === 0.156);
    const warn = events.events.find((e) => e.type === "log" && e.level === "warn" && e.runId === id);
    assert.match((warn as { message: string }).message, /clean accuracy 15\.6% on 64 val images, chance 10\.0%: near chance; raise model\.pretrain\.steps/);
    const detail = await manager.get(id);
    assert.deepEqual(detail.baseModel, { source: "fake pretraining", cleanAccuracy: 0.156, n: 64, numClasses: 10, nearChance: true, hint: "raise model.pretrain.steps" });
  });

  test("resume during pausing keeps training; shutdown pauses running runs with a reason", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "sd", { steps: 50, stepMs: 10 }));
    await events.waitFor((e) => e.type === "metrics" && e.runId === id, "first step");
    await manager.pause(id);
    // Before the step boundary resume cancels the pause ("running"); once the checkpoint is
    // being written it continues right after it ("pausing", then queued again).
    assert.ok(["running", "pausing"].includes((await manager.resume(id)).state));
    const from = (await manager.get(id)).step;
    await events.waitFor((e) => e.type === "metrics" && e.runId === id && e.step >= from + 2, "kept training");
    await manager.shutdown();
    const detail = await manager.get(id);
    assert.equal(detail.state, "paused");
    assert.match(detail.message ?? "", /daemon shut down; resume to continue/);
    assert.ok(detail.artifacts.checkpoints.includes(`checkpoints/step-${detail.step}.json`));
    await assert.rejects(manager.resume(id), /shutting down/);
  });

  test("a NaN loss pauses the run at its last good checkpoint with a message", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "nan", { steps: 8, checkpointEvery: 2, nanAtStep: 5 }));
    const paused = await events.waitFor(isStatus(id, "paused"), "paused on NaN");
    assert.ok(paused.type === "status");
    assert.equal(paused.step, 4);
    assert.match(paused.message ?? "", /loss is NaN at step 5.*last checkpoint \(step 4\)/);
    const detail = await manager.get(id);
    assert.equal(detail.artifacts.checkpoints.includes("checkpoints/step-5.json"), false);
  });

  test("an engine error fails the run with its message", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "boom", { steps: 5, failAtStep: 2 }));
    const failed = await events.waitFor(isStatus(id, "failed"), "failed");
    assert.match((failed as { message?: string }).message ?? "", /fake engine failure at step 2/);
  });

  test("annotations written while the daemon trains the run are listed for it and survive every run.json it writes", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "noted", { steps: 6, checkpointEvery: 2, stepMs: 20 }));
    await events.waitFor((e) => e.type === "metrics" && e.runId === id && e.step === 1, "step 1");
    const { dir } = await manager.get(id);
    const annotations = { displayName: "while training", tags: ["live"] };
    await writeRunAnnotations(dir, annotations);
    // The live run's summary comes from the daemon's manifest; the annotations from the folder.
    assert.deepEqual((await manager.list()).find((r) => r.id === id)?.annotations, annotations);
    await events.waitFor(isStatus(id, "completed"), "completed");
    assert.deepEqual((await manager.get(id)).annotations, annotations);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, ANNOTATIONS_FILE), "utf8")), { version: 1, ...annotations });
    assert.equal("annotations" in JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")), false);
  });

  test("runs queue: with one slot the second starts only after the first finished", async () => {
    const { ws, manager, events } = setup({ maxConcurrentRuns: 1 });
    const a = await manager.start(writeConfig(ws, "q1", { steps: 3, stepMs: 10 }));
    const b = await manager.start(writeConfig(ws, "q2", { steps: 3 }));
    assert.equal((await manager.list()).find((r) => r.id === b)?.state, "queued");
    await events.waitFor(isStatus(b, "completed"), "second run completed");
    const idx = (p: (e: ManagerEvent) => boolean) => events.events.findIndex(p);
    assert.ok(idx(isStatus(a, "completed")) < idx(isStatus(b, "running")));
  });

  test("two slots train two runs at once", async () => {
    const { ws, manager, events } = setup({ maxConcurrentRuns: 2 });
    const a = await manager.start(writeConfig(ws, "c1", { steps: 4, stepMs: 10 }));
    const b = await manager.start(writeConfig(ws, "c2", { steps: 4, stepMs: 10 }));
    await Promise.all([events.waitFor(isStatus(a, "completed"), "a"), events.waitFor(isStatus(b, "completed"), "b")]);
    const idx = (p: (e: ManagerEvent) => boolean) => events.events.findIndex(p);
    assert.ok(idx(isStatus(b, "running")) < idx(isStatus(a, "completed")));
  });

  test("invalid config, missing files and memory over the limit are refused before a run folder exists", async () => {
    const { ws, manager } = setup();
    await assert.rejects(manager.start(writeConfig(ws, "bad", { steps: 0 })), (e: Error & { jsonPath?: string }) => e.name === "ConfigError" && e.jsonPath === "/steps");
    await assert.rejects(manager.start(writeConfig(ws, "nodata", { dataFile: "missing.bin" })), (e: Error & { jsonPath?: string; file?: string }) =>
      e.name === "MissingFileError" && e.jsonPath === "/dataFile" && e.file === path.join(ws, "missing.bin"));
    await assert.rejects(manager.start(path.join(ws, "nope.hyperat.json")), (e: Error) => e.name === "MissingFileError" && e.message.includes("nope.hyperat.json"));
    await assert.rejects(manager.start(writeConfig(ws, "huge", { memoryBytes: 2 ** 31 })), (e: Error) => e.name === "MemoryLimitError" && /2\.00 GiB is over the limit of 1\.00 GiB/.test(e.message));
    assert.deepEqual(await manager.list(), []);
  });

  test("merge and evaluate work on a completed run, report progress and return to completed", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "m", { steps: 3 }));
    await events.waitFor(isStatus(id, "completed"), "completed");
    const merged = await manager.merge(id, "adaptive");
    assert.ok(fs.existsSync(merged.modelPath));
    assert.deepEqual(Object.keys(merged.lambdas ?? {}), ["pgd-at", "trades", "mart"]);
    const progress = events.events.filter((e) => e.type === "progress").map((e) => (e as { value: { kind: string } }).value.kind);
    assert.deepEqual([progress[0], progress.at(-1)], ["begin", "end"]);
    assert.ok(progress.includes("report"));
    const ev = await manager.evaluate(id, "quick");
    assert.equal(ev.records.length, 4);
    const detail = await manager.get(id);
    assert.equal(detail.state, "completed");
    assert.deepEqual(detail.artifacts.reports, ["report.json", "report.md"]);
    assert.match(fs.readFileSync(path.join(detail.dir, "report.md"), "utf8"), /\| uniform \| 80\.00% \| 33\.00% \| \*\*33\.00%\*\* \|/);
    assert.equal(detail.merges.length, 1);
    // The best comes from validation of the merged target only, never from the test report's 0.33.
    assert.equal(detail.best?.split, "val");
    assert.equal(detail.best?.target, "uniform");
    assert.equal(detail.bestRobustAccuracy, detail.best?.worstCaseRobustAccuracy);
    assert.notEqual(detail.bestRobustAccuracy, 0.33);
    assert.ok(events.events.some(isStatus(id, "merging")) && events.events.some(isStatus(id, "evaluating")));
  });

  test("wrong states and unknown runs are errors that name the run", async () => {
    const { ws, manager, events } = setup();
    const id = await manager.start(writeConfig(ws, "s", { steps: 40, stepMs: 10 }));
    await events.waitFor((e) => e.type === "metrics" && e.runId === id, "first step");
    await assert.rejects(manager.merge(id, "uniform"), (e: Error) => e.name === "InvalidStateError" && e.message.includes(id));
    await manager.stop(id);
    await events.waitFor(isStatus(id, "stopped"), "stopped");
    await assert.rejects(manager.get("no-such-run"), (e: Error) => e.name === "UnknownRunError" && e.message.includes("no-such-run"));
    await assert.rejects(manager.pause("../etc"), (e: Error) => e.name === "UnknownRunError");
    const done = await manager.start(writeConfig(ws, "d", { steps: 1 }));
    await events.waitFor(isStatus(done, "completed"), "completed");
    await assert.rejects(manager.resume(done), (e: Error) => e.name === "InvalidStateError");
  });

  test("a run left 'running' by a dead process lists as interrupted and resumes from its last checkpoint", async () => {
    const { ws, manager, events } = setup();
    const cfg = writeConfig(ws, "crash", { steps: 6, checkpointEvery: 2, seed: 3 });
    const ref = await manager.start(cfg);
    await events.waitFor(isStatus(ref, "completed"), "reference");
    const refLosses = await losses((await manager.get(ref)).dir);

    // Forge what a kill -9 at step 5 leaves behind: run.json says running (written at the
    // checkpoint of step 4), checkpoints up to 4, metrics up to 5, owner gone.
    const victim = await manager.start(cfg);
    await events.waitFor(isStatus(victim, "completed"), "victim ran");
    const dir = (await manager.get(victim)).dir;
    const dead = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString());
    const m = await readManifest(dir);
    await writeManifest(dir, { ...m, state: "running", step: 4, owner: { pid: dead, instance: "gone", startedAt: "t" } });
    for (const f of ["step-6.json", "step-6.safetensors"]) fs.rmSync(path.join(dir, "checkpoints", f));
    const lines = fs.readFileSync(path.join(dir, "metrics.jsonl"), "utf8").split("\n");
    const cut = lines.findIndex((l) => l.includes('"kind":"step"') && l.includes('"step":6'));
    fs.writeFileSync(path.join(dir, "metrics.jsonl"), lines.slice(0, cut).join("\n") + '\n{"kind":"step","st');

    // Editing the config file afterwards must not change the run: it trains on its frozen copy.
    writeConfig(ws, "crash", { steps: 99, checkpointEvery: 1, seed: 4 });

    const fresh = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false });
    managers.push(fresh);
    const freshEvents = new Collector<ManagerEvent>();
    fresh.onEvent(freshEvents.push);
    assert.equal((await fresh.list()).find((r) => r.id === victim)?.state, "interrupted");
    // A double click: two resumes of the not-yet-adopted run must start one training, not two.
    await Promise.all([fresh.resume(victim), fresh.resume(victim)]);
    const completed = await freshEvents.waitFor(isStatus(victim, "completed"), "resumed after crash");
    assert.equal((completed as { totalSteps: number }).totalSteps, 6);
    assert.deepEqual(await losses(dir), refLosses);
    assert.equal((await readMetricsLines(dir)).filter((l) => l.kind === "resume").length, 1);
    assert.ok((await readMetricsLines(dir)).some((l) => l.kind === "resume" && l.fromStep === 4));
  });
});
