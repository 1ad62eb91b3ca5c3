// A finished run stays finished: a process killed at any durable step (fsync, rename) of a merge
// or an evaluation leaves the run `completed` (the operation marked interrupted), and no temp
// file shows in its listing or survives the next adoption.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RunManager, type ManagerEvent } from "../../src/daemon/runManager";
import { listArtifacts, readManifest, readRunSummary, runsDirOf } from "../../src/daemon/runStore";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "./helpers";
import { spawnRunChild } from "./children/spawnRunChild";

/** A completed fake run, its manager shut down. */
async function completedRun(): Promise<string> {
  const ws = tempWorkspace("hyperat-done-");
  const m = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false });
  const events = new Collector<ManagerEvent>();
  m.onEvent(events.push);
  const id = await m.start(writeConfig(ws, "done", { steps: 2, checkpointEvery: 2 }));
  await events.waitFor((e) => e.type === "status" && e.state === "completed", "completed");
  await m.shutdown();
  return path.join(runsDirOf(ws), id);
}

/** A fresh copy of the run folder (same id) in a workspace of its own. */
function copyOf(dir: string): string {
  const to = path.join(runsDirOf(tempWorkspace("hyperat-kill-")), path.basename(dir));
  fs.cpSync(dir, to, { recursive: true });
  return to;
}

function allFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((n) => fs.statSync(path.join(dir, n)).isFile());
}

async function run(dir: string, action: string, killAt?: string) {
  const child = spawnRunChild(dir, action, [], killAt ? { HYPERAT_TEST_KILL_AT: killAt } : {});
  await child.ready;
  child.go();
  return child.result;
}

describe("a kill during merge or evaluate of a completed run", () => {
  for (const action of ["merge", "evaluate"]) {
    test(`${action}: at every fsync and rename the run stays completed and no temp file is listed`, async () => {
      const pristine = await completedRun();
      const dry = await run(copyOf(pristine), action);
      assert.equal(dry.out?.ok, true, dry.stderr);
      const phases = (dry.out!.phases as string[]).map((p) => p.split(" ")[0]).filter((p) => p === "fsync" || p === "rename");
      assert.ok(phases.length >= 4, `expected the ${action} to make several atomic writes, saw ${JSON.stringify(dry.out!.phases)}`);
      const counts: Record<string, number> = {};
      for (const phase of phases) {
        const killAt = `${phase}:${(counts[phase] = (counts[phase] ?? 0) + 1)}`;
        const dir = copyOf(pristine);
        const res = await run(dir, action, killAt);
        assert.equal(res.signal, "SIGKILL", `${killAt}: the child was not killed (${res.stderr})`);
        const shown = await readRunSummary(dir);
        assert.equal(shown.state, "completed", `${killAt}: listed as ${shown.state}`);
        const listed = Object.values(await listArtifacts(dir)).flat();
        assert.ok(listed.every((f) => !f.includes(".tmp")), `${killAt}: listed ${listed.join(", ")}`);

        // The next process to adopt the run records the interruption and clears the leftovers.
        const m = new RunManager({ runsDir: path.dirname(dir), engineModule: FAKE_ENGINE, useWorkers: false });
        await m.adopt(dir);
        await m.shutdown();
        const after = await readManifest(dir);
        assert.equal(after.state, "completed", killAt);
        if (after.operation) assert.equal(after.operation.interrupted, true, killAt);
        const left = allFiles(dir).filter((f) => f.endsWith(".tmp") || path.basename(f).startsWith(".owner.lock"));
        assert.deepEqual(left, [], killAt);
      }
    });
  }
});
