import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registerLiveInstance, writeManifest, type RunManifest } from "../../src/daemon/runStore";
import type { RunState } from "../../src/protocol/runs";
import { archiveDirOf, removeRun } from "../../src/extension/runRemoval";

function workspace(): string {
  const runs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-remove-")), ".hyperat", "runs");
  fs.mkdirSync(runs, { recursive: true });
  return runs;
}

async function makeRun(runsDir: string, id: string, state: RunState): Promise<string> {
  const dir = path.join(runsDir, id);
  fs.mkdirSync(path.join(dir, "checkpoints"), { recursive: true });
  fs.writeFileSync(path.join(dir, "checkpoints", "step-1.json"), "{}");
  const m: RunManifest = {
    version: 1, id, name: id, configPath: "/ws/a.hyperat.json", state, step: 1, totalSteps: 10, method: "hyperat",
    defenses: ["pgd-at"], createdAt: "2026-12-02T00:00:00Z", updatedAt: "2026-12-02T00:00:00Z",
  };
  await writeManifest(dir, m);
  return dir;
}

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe("removeRun", () => {
  test("delete removes exactly that run folder; its neighbours are untouched", async () => {
    const runs = workspace();
    await makeRun(runs, "a-1", "stopped");
    const b = await makeRun(runs, "b-2", "completed");
    const before = tree(b);
    const a = fs.realpathSync(path.join(runs, "a-1"));
    assert.equal(await removeRun(runs, "a-1", "delete"), a);
    assert.deepEqual(fs.readdirSync(runs), ["b-2"]);
    assert.deepEqual(tree(b), before);
  });

  test("archive moves the folder to .hyperat/archive, out of the tree's runs folder", async () => {
    const runs = workspace();
    await makeRun(runs, "a-1", "completed");
    await makeRun(runs, "b-2", "paused");
    const target = await removeRun(runs, "a-1", "archive");
    assert.equal(target, path.join(fs.realpathSync(archiveDirOf(runs)), "a-1"));
    assert.deepEqual(fs.readdirSync(runs), ["b-2"]);
    assert.ok(fs.existsSync(path.join(target, "run.json")) && fs.existsSync(path.join(target, "checkpoints", "step-1.json")));
    // A second archive of the same id never overwrites the first.
    await makeRun(runs, "a-1", "completed");
    await assert.rejects(removeRun(runs, "a-1", "archive"), /already exists; nothing was moved/);
    assert.ok(fs.existsSync(path.join(runs, "a-1", "run.json")));
  });

  test("a run some process works on is refused", async () => {
    const runs = workspace();
    // A run owned by this live process (a registered instance) stays running and is refused.
    registerLiveInstance("test-remove");
    const dir = path.join(runs, "live-1");
    fs.mkdirSync(dir);
    await writeManifest(dir, {
      version: 1, id: "live-1", name: "live", configPath: "/ws/a.hyperat.json", state: "running", step: 1, totalSteps: 10, method: "hyperat",
      defenses: ["pgd-at"], createdAt: "2026-12-02T00:00:00Z", updatedAt: "2026-12-02T00:00:00Z",
      owner: { pid: process.pid, startedAt: new Date().toISOString(), instance: "test-remove" } as RunManifest["owner"],
    });
    const state = JSON.parse(fs.readFileSync(path.join(dir, "run.json"), "utf8")).state;
    assert.equal(state, "running");
    await assert.rejects(removeRun(runs, "live-1", "delete"), /run live-1 is running; pause or stop it first/);
    assert.ok(fs.existsSync(dir));
  });

  test("bad ids, links, files and folders without run.json are refused and nothing is removed", async () => {
    const runs = workspace();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-outside-"));
    await makeRun(outside, "x-1", "completed");
    fs.symlinkSync(path.join(outside, "x-1"), path.join(runs, "link-1"));
    fs.writeFileSync(path.join(runs, "file-1"), "");
    fs.mkdirSync(path.join(runs, "empty-1"));
    await assert.rejects(removeRun(runs, "../x", "delete"), /is not a run id/);
    await assert.rejects(removeRun(runs, "link-1", "delete"), /not a plain folder/);
    await assert.rejects(removeRun(runs, "file-1", "delete"), /not a plain folder/);
    await assert.rejects(removeRun(runs, "empty-1", "archive"), /not a readable run folder/);
    await assert.rejects(removeRun(runs, "missing-1", "delete"), /no run folder/);
    assert.ok(fs.existsSync(path.join(outside, "x-1", "run.json")));
    assert.deepEqual(fs.readdirSync(runs).sort(), ["empty-1", "file-1", "link-1"]);
  });
});
