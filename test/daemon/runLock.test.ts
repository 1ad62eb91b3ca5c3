import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { RunManager, type ManagerEvent } from "../../src/daemon/runManager";
import { readManifest, readMetricsLines, readRunSummary, runsDirOf, writeManifest } from "../../src/daemon/runStore";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "./helpers";
import { spawnRunChild } from "./children/spawnRunChild";

const managers: RunManager[] = [];
const sleepers: Array<{ kill: () => void }> = [];
after(async () => {
  for (const m of managers) await m.shutdown();
  for (const s of sleepers) s.kill();
});

function manager(ws: string): { m: RunManager; events: Collector<ManagerEvent> } {
  const m = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false });
  managers.push(m);
  const events = new Collector<ManagerEvent>();
  m.onEvent(events.push);
  return { m, events };
}

/** A paused run at step 0 of `steps`, its manager shut down (so no process owns it). */
async function pausedRun(ws: string, steps: number, stepMs: number): Promise<string> {
  const { m, events } = manager(ws);
  const id = await m.start(writeConfig(ws, "race", { steps, checkpointEvery: 2, stepMs }));
  await m.pause(id);
  await events.waitFor((e) => e.type === "status" && e.runId === id && e.state === "paused", "paused");
  await m.shutdown();
  return path.join(runsDirOf(ws), id);
}

/** A live process unrelated to any run (its pid is what a reused pid looks like). */
async function liveStranger(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000); process.stdout.write('up')"], { stdio: ["ignore", "pipe", "ignore"] });
  sleepers.push({ kill: () => child.kill("SIGKILL") });
  await new Promise<void>((r) => child.stdout!.once("data", () => r()));
  return child.pid!;
}

function procStartTime(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

const linux = process.platform === "linux";

describe("one owner per run", () => {
  test("four processes resuming one run at the same instant: exactly one trains, the others get RunBusy naming it", async () => {
    const ws = tempWorkspace("hyperat-race-");
    const dir = await pausedRun(ws, 12, 30);
    const before = (await readMetricsLines(dir)).length;
    const children = Array.from({ length: 4 }, () => spawnRunChild(dir, "resume"));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.result));
    const outs = results.map((r) => r.out);
    assert.ok(outs.every(Boolean), results.map((r) => r.stderr).join("\n"));
    const winners = outs.filter((o) => o!.ok);
    assert.equal(winners.length, 1, JSON.stringify(outs));
    for (const loser of outs.filter((o) => !o!.ok)) {
      assert.equal(loser!.name, "RunBusyError", JSON.stringify(loser));
      assert.match(String(loser!.message), new RegExp(`pid ${winners[0]!.pid}\\b`));
    }
    const after = (await readMetricsLines(dir)).slice(before);
    assert.equal(after.filter((l) => l.kind === "resume").length, 1);
    const steps = after.filter((l) => l.kind === "step").map((l) => (l as { step: number }).step);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => steps[0] + i), "steps interleaved");
    assert.equal((await readRunSummary(dir)).state, "completed");
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith(".")), [], `the winner released its lock: ${fs.existsSync(path.join(dir, ".owner.lock")) && fs.readFileSync(path.join(dir, ".owner.lock"), "utf8")} ${JSON.stringify(outs)}`);
  });

  test("a pid in run.json that now belongs to an unrelated process does not keep the run busy", { skip: !linux && "needs /proc" }, async () => {
    const ws = tempWorkspace("hyperat-reuse-");
    const dir = await pausedRun(ws, 4, 0);
    const stranger = await liveStranger();
    const m0 = await readManifest(dir);
    const self = m0.owner!;
    // What a killed daemon leaves when the kernel later hands its pid to another program.
    await writeManifest(dir, { ...m0, state: "running", owner: { ...self, pid: stranger, instance: "gone", startTime: "1" } });
    assert.equal((await readRunSummary(dir)).state, "interrupted");
    const { m, events } = manager(ws);
    await m.resume(m0.id);
    await events.waitFor((e) => e.type === "status" && e.state === "completed", "completed");
  });

  test("a lock held by a live process refuses, --force takes over; a reused pid or an expired foreign heartbeat is taken over", { skip: !linux && "needs /proc" }, async () => {
    const ws = tempWorkspace("hyperat-takeover-");
    const dir = await pausedRun(ws, 2, 0);
    const id = path.basename(dir);
    const stranger = await liveStranger();
    const self = (await readManifest(dir)).owner!;
    const lockFile = path.join(dir, ".owner.lock");
    const holder = { ...self, pid: stranger, startTime: procStartTime(stranger), instance: "x", command: "hyperat daemon", acquiredAt: "2026-01-01T00:00:00Z", token: "t0" };

    fs.writeFileSync(lockFile, JSON.stringify(holder));
    const { m, events } = manager(ws);
    await assert.rejects(m.resume(id), (e: Error) => e.name === "RunBusyError" && e.message.includes(`pid ${stranger}`) && e.message.includes("--force"));
    assert.equal(JSON.parse(fs.readFileSync(lockFile, "utf8")).pid, stranger, "a refused request leaves the lock alone");

    // The same pid with another start time is another process: the holder is gone.
    fs.writeFileSync(lockFile, JSON.stringify({ ...holder, startTime: "1" }));
    await m.pause(id); // takes the stale lock, pauses (already paused), gives it back
    assert.ok(!fs.existsSync(lockFile));

    // A holder on another host is judged by its heartbeat alone.
    fs.writeFileSync(lockFile, JSON.stringify({ ...holder, hostname: "elsewhere" }));
    await assert.rejects(m.pause(id), (e: Error) => e.name === "RunBusyError" && e.message.includes("heartbeat is fresh"));
    const old = new Date(Date.now() - 120_000);
    fs.utimesSync(lockFile, old, old);
    await m.pause(id);
    assert.ok(!fs.existsSync(lockFile));

    // A live holder gives way only to --force.
    fs.writeFileSync(lockFile, JSON.stringify(holder));
    await m.resume(id, { force: true });
    await events.waitFor((e) => e.type === "status" && e.runId === id && e.state === "completed", "completed after takeover");
  });

  test("the owner that lost a forced takeover stops writing to the run", async () => {
    const ws = tempWorkspace("hyperat-lost-");
    const dir = await pausedRun(ws, 400, 10);
    const id = path.basename(dir);
    const first = manager(ws);
    await first.m.resume(id);
    await first.events.waitFor((e) => e.type === "metrics" && e.runId === id, "training");
    await assert.rejects(manager(ws).m.pause(id), (e: Error) => e.name === "RunBusyError");
    const thief = spawnRunChild(dir, "resume", ["--force"]);
    await thief.ready;
    thief.go();
    await first.events.waitFor((e) => e.type === "log" && e.level === "error" && e.message.includes("taken over"), "first owner notices", 20_000);
    await first.m.idle();
    const res = await thief.result;
    assert.equal(res.out?.ok, true, res.stderr);
    const lines = await readMetricsLines(dir);
    const lastResume = lines.map((l) => l.kind).lastIndexOf("resume");
    const steps = lines.slice(lastResume).filter((l) => l.kind === "step").map((l) => (l as { step: number }).step);
    assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => steps[0] + i), "the old owner wrote after losing the run");
    assert.equal((await readRunSummary(dir)).state, "completed");
  });
});
