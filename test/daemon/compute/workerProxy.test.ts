// The worker-thread compute host: errors cross the thread boundary with their name and fields,
// and a worker that dies takes only its run down.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RunManager, type ManagerEvent } from "../../../src/daemon/runManager";
import { runsDirOf } from "../../../src/daemon/runStore";
import { reviveError, serializeError, MissingFileError } from "../../../src/daemon/errors";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "../helpers";

const managers: RunManager[] = [];
after(async () => {
  for (const m of managers) await m.shutdown();
});

const isStatus = (runId: string, state: string) => (e: ManagerEvent) => e.type === "status" && e.runId === runId && e.state === state;

describe("worker-thread compute host", () => {
  test("serializeError/reviveError keep the name, message and plain fields", () => {
    const back = reviveError(structuredClone(serializeError(new MissingFileError("/d/train.bin", "/data/train"))));
    assert.equal(back.name, "MissingFileError");
    assert.equal(back.message, "file not found: /d/train.bin (config /data/train)");
    assert.equal((back as unknown as { jsonPath: string }).jsonPath, "/data/train");
    assert.equal(reviveError(serializeError("plain string")).message, "plain string");
  });

  test("engine errors, NaN and a dying worker reach the run; the next run gets a fresh worker", async () => {
    const ws = tempWorkspace();
    const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: true, maxConcurrentRuns: 1 });
    managers.push(manager);
    const events = new Collector<ManagerEvent>();
    manager.onEvent(events.push);

    const nan = await manager.start(writeConfig(ws, "nan", { steps: 6, checkpointEvery: 2, nanAtStep: 3, nanThrows: true }));
    const failed = await manager.start(writeConfig(ws, "fail", { steps: 6, failAtStep: 2 }));
    const crash = await manager.start(writeConfig(ws, "crash", { steps: 6, crashAtStep: 2 }));
    const ok = await manager.start(writeConfig(ws, "ok", { steps: 3 }));

    const p = await events.waitFor(isStatus(nan, "paused"), "NaN pause");
    assert.match((p as { message?: string }).message ?? "", /^loss is NaN at step 3 \(defense trades\); paused at the last checkpoint \(step 2\)/);
    const f = await events.waitFor(isStatus(failed, "failed"), "engine failure");
    assert.equal((f as { message?: string }).message, "fake engine failure at step 2");
    const c = await events.waitFor(isStatus(crash, "failed"), "worker crash");
    assert.match((c as { message?: string }).message ?? "", /training worker exited with code 3/);
    await events.waitFor(isStatus(ok, "completed"), "a run after the crash");

    // The crashed run is resumable: it starts over in a new worker (no checkpoint yet) and
    // crashes at the same step again.
    const again = events.next(isStatus(crash, "failed"), "crash again");
    await manager.resume(crash);
    await again;
  });
});
