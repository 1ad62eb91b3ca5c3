import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import {
  MetricsAppender,
  cutTornTail,
  RunManifest,
  createRunDir,
  effectiveState,
  listRunSummaries,
  newRunId,
  readManifest,
  readMetricsLines,
  readRunDetail,
  readRunSummary,
  registerLiveInstance,
  removeStaleTempFiles,
  summarizeMetrics,
  unregisterLiveInstance,
  writeManifest,
} from "../../src/daemon/runStore";
import type { MetricsLine } from "../../src/protocol/runs";
import { tempWorkspace } from "./helpers";

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  return Number(r.stdout.toString());
}

function manifest(id: string, over: Partial<RunManifest> = {}): RunManifest {
  return {
    version: 1, id, name: "t", configPath: "/c.hyperat.json", state: "paused", step: 2, totalSteps: 10,
    method: "hyperat", defenses: ["pgd-at", "trades"], createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z",
    ...over,
  };
}

const step = (n: number, defense: string): MetricsLine => ({
  kind: "step", step: n, totalSteps: 10, defense, loss: 1 / n, cleanAcc: 0.5, advAcc: 0.2, lr: 1e-3, seconds: 0.1, time: "t",
});

describe("run store", () => {
  test("createRunDir writes config, metrics, subfolders and run.json; readers round-trip", async () => {
    const dir = path.join(tempWorkspace(), "r1");
    await createRunDir(dir, manifest("r1"), { name: "t", steps: 10 });
    assert.deepEqual(fs.readdirSync(dir).sort(), ["adapters", "checkpoints", "config.json", "merged", "metrics.jsonl", "run.json"]);
    const s = await readRunSummary(dir);
    assert.equal(s.id, "r1");
    assert.equal(s.state, "paused");
    assert.equal(s.dir, dir);
    assert.equal("owner" in s, false);
    const d = await readRunDetail(dir);
    assert.deepEqual(d.config, { name: "t", steps: 10 });
    assert.deepEqual(d.artifacts, { checkpoints: [], adapters: [], merged: [], reports: [] });
    await assert.rejects(createRunDir(dir, manifest("r1"), {}), /already holds a run/);
  });

  test("writeManifest is atomic: no temp files remain and concurrent writers never tear run.json", async () => {
    const dir = path.join(tempWorkspace(), "r2");
    await createRunDir(dir, manifest("r2"), {});
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeManifest(dir, manifest("r2", { step: i }))));
    const m = await readManifest(dir);
    assert.ok(m.step >= 0 && m.step < 20);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), []);
  });

  test("readManifest names the file and the field that is wrong", async () => {
    const dir = path.join(tempWorkspace(), "r3");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify({ ...manifest("r3"), state: "sleeping" }));
    await assert.rejects(readManifest(dir), (e: Error) => e.message.includes("run.json") && e.message.includes("/state"));
    fs.writeFileSync(path.join(dir, "run.json"), "{ torn");
    await assert.rejects(readManifest(dir), /not valid JSON/);
  });

  test("a torn last metrics line is ignored by readers, then cut by the next writer, which records it", async () => {
    const dir = path.join(tempWorkspace(), "r4");
    await createRunDir(dir, manifest("r4"), {});
    const file = path.join(dir, "metrics.jsonl");
    await new MetricsAppender(file).append([step(1, "trades"), step(2, "pgd-at")]);
    const torn = '{"kind":"step","step":3,"defe';
    fs.appendFileSync(file, torn); // crash mid-write
    assert.deepEqual((await readMetricsLines(dir)).map((l) => l.kind === "step" && l.step), [1, 2]);
    await new MetricsAppender(file).append([step(3, "trades")]);
    // Every line parses: the fragment is gone, not left in the middle.
    const raw = fs.readFileSync(file, "utf8");
    assert.ok(raw.endsWith("\n"));
    const parsed = raw.trimEnd().split("\n").map((l) => JSON.parse(l) as MetricsLine);
    assert.deepEqual(parsed.map((l) => l.kind), ["step", "step", "tornLine", "step"]);
    assert.equal((parsed[2] as { droppedBytes: number }).droppedBytes, Buffer.byteLength(torn));
    const lines = await readMetricsLines(dir);
    assert.deepEqual(lines.filter((l) => l.kind === "step").map((l) => l.kind === "step" && l.step), [1, 2, 3]);
    assert.equal((await readRunDetail(dir)).sampledCounts.trades, 2);
  });

  test("cutTornTail: hand-checked cuts, including a file with no newline and tails longer than one read chunk", async () => {
    const dir = tempWorkspace();
    const f = path.join(dir, "m.jsonl");
    assert.equal(await cutTornTail(f), 0, "absent file");
    fs.writeFileSync(f, "");
    assert.equal(await cutTornTail(f), 0, "empty file");
    fs.writeFileSync(f, "a\nbc\n");
    assert.equal(await cutTornTail(f), 0);
    assert.equal(fs.readFileSync(f, "utf8"), "a\nbc\n");
    fs.writeFileSync(f, "a\nbc\nde");
    assert.equal(await cutTornTail(f), 2);
    assert.equal(fs.readFileSync(f, "utf8"), "a\nbc\n");
    fs.writeFileSync(f, "no newline at all");
    assert.equal(await cutTornTail(f), 17);
    assert.equal(fs.statSync(f).size, 0);
    const long = "x".repeat(200_000); // spans four 64 KiB reads backwards
    fs.writeFileSync(f, `{"kind":"log"}\n${long}`);
    assert.equal(await cutTornTail(f), long.length);
    assert.equal(fs.readFileSync(f, "utf8"), '{"kind":"log"}\n');
  });

  test("summarizeMetrics drops steps past a resume point and counts defenses of the kept trajectory", () => {
    const lines: MetricsLine[] = [
      step(1, "a"), step(2, "b"), step(3, "a"), step(4, "a"),
      { kind: "validation", step: 3, target: "uniform", cleanAccuracy: 0.9, robustAccuracy: { pgd: 0.5 }, worstCaseRobustAccuracy: 0.5, time: "t" },
      { kind: "resume", fromStep: 2, time: "t" },
      step(3, "b"), step(4, "b"),
      { kind: "validation", step: 4, target: "uniform", cleanAccuracy: 0.9, robustAccuracy: { pgd: 0.4 }, worstCaseRobustAccuracy: 0.4, time: "t" },
      { kind: "merge", strategy: "adaptive", modelPath: "m", lambdas: { a: [0.5] }, time: "t" },
    ];
    const s = summarizeMetrics(lines);
    assert.deepEqual(s.recentMetrics.map((m) => `${m.step}${m.defense}`), ["1a", "2b", "3b", "4b"]);
    assert.deepEqual(s.sampledCounts, { a: 1, b: 3 });
    assert.deepEqual(s.evaluations.map((e) => e.step), [4]); // the lost attempt's validation is gone
    assert.deepEqual(s.best, { target: "uniform", split: "val", attack: "pgd", step: 4, worstCaseRobustAccuracy: 0.4, cleanAccuracy: 0.9 });
    assert.equal(s.merges.length, 1);
  });

  test("an active run whose owner is gone reads as interrupted; a live owner keeps its state", async () => {
    const ws = tempWorkspace();
    const dead = path.join(ws, "dead");
    await createRunDir(dead, manifest("dead", { state: "running", owner: { pid: deadPid(), instance: "x", startedAt: "t" } }), {});
    assert.equal((await readRunSummary(dead)).state, "interrupted");

    registerLiveInstance("live-1");
    const own = manifest("own", { state: "running", owner: { pid: process.pid, instance: "live-1", startedAt: "t" } });
    assert.equal(effectiveState(own), "running");
    unregisterLiveInstance("live-1"); // the manager in this process is gone
    assert.equal(effectiveState(own), "interrupted");
    // Finished states never become interrupted.
    assert.equal(effectiveState(manifest("p", { state: "paused", owner: { pid: deadPid(), instance: "x", startedAt: "t" } })), "paused");
    assert.equal(effectiveState(manifest("n", { state: "queued" })), "interrupted");
  });

  test("listRunSummaries: newest first, skips folders without run.json, reports unreadable ones", async () => {
    const runs = tempWorkspace();
    await createRunDir(path.join(runs, "old"), manifest("old", { createdAt: "2026-01-01T00:00:00.000Z" }), {});
    await createRunDir(path.join(runs, "new"), manifest("new", { createdAt: "2026-02-01T00:00:00.000Z" }), {});
    fs.mkdirSync(path.join(runs, "half-created"));
    fs.mkdirSync(path.join(runs, "broken"));
    fs.writeFileSync(path.join(runs, "broken", "run.json"), "[]");
    const bad: string[] = [];
    const list = await listRunSummaries(runs, (d) => bad.push(path.basename(d)));
    assert.deepEqual(list.map((r) => r.id), ["new", "old"]);
    assert.deepEqual(bad, ["broken"]);
    assert.deepEqual(await listRunSummaries(path.join(runs, "missing")), []);
  });

  test("newRunId is sortable by time and file-name safe", () => {
    const a = newRunId("My Demo / CIFAR!", new Date("2026-11-26T10:44:55Z"));
    assert.match(a, /^20261126-104455-my-demo-cifar-[0-9a-f]{4}$/);
    assert.match(newRunId("///"), /-run-[0-9a-f]{4}$/);
  });
});

test("removeStaleTempFiles removes only the temp files of cut-short atomic writes", async () => {
  const dir = path.join(tempWorkspace(), "r5");
  await createRunDir(dir, manifest("r5"), {});
  fs.writeFileSync(path.join(dir, "checkpoints", ".step-4.safetensors.123.ab12.tmp"), "partial");
  fs.writeFileSync(path.join(dir, ".run.json.123.cd34.tmp"), "{");
  fs.writeFileSync(path.join(dir, "checkpoints", "step-2.json"), "{}");
  // One model's report cut short (folderAtomic.ts's temp folder) next to a finished one.
  fs.mkdirSync(path.join(dir, "reports", ".base-2026-12-03T10-00-00-000Z.123.ef56.tmp"), { recursive: true });
  fs.writeFileSync(path.join(dir, "reports", ".base-2026-12-03T10-00-00-000Z.123.ef56.tmp", "report.json"), "{");
  fs.mkdirSync(path.join(dir, "reports", "base-2026-12-03T09-00-00-000Z"));
  fs.writeFileSync(path.join(dir, "reports", "base-2026-12-03T09-00-00-000Z", "report.md"), "# ok\n");
  const removed = await removeStaleTempFiles(dir);
  assert.deepEqual(removed.sort(), [".run.json.123.cd34.tmp", path.join("checkpoints", ".step-4.safetensors.123.ab12.tmp"), path.join("reports", ".base-2026-12-03T10-00-00-000Z.123.ef56.tmp")].sort());
  assert.deepEqual(fs.readdirSync(path.join(dir, "checkpoints")), ["step-2.json"]);
  assert.deepEqual(fs.readdirSync(path.join(dir, "reports")), ["base-2026-12-03T09-00-00-000Z"]);
});
