// Nothing outside `.hyperat/runs` is read or written through a symlink or a `../` id: at the
// daemon (real process over JSON-RPC), the CLI (real process) and the extension's disk reader.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ResponseError } from "vscode-jsonrpc/node";
import * as rpc from "../../src/protocol/methods";
import { RunManager, type ManagerEvent } from "../../src/daemon/runManager";
import { readManifest, runsDirOf } from "../../src/daemon/runStore";
import { diskRunReader } from "../../src/extension/runReader";
import { Collector, FAKE_ENGINE, tempWorkspace, writeConfig } from "./helpers";
import { killDaemon, spawnDaemon, type DaemonProcess } from "./daemonProcess";

const ROOT = path.resolve(__dirname, "../..");
const daemons: DaemonProcess[] = [];
after(() => daemons.forEach(killDaemon));

/** Every file under `dir` with its bytes and mtime, to prove nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, name);
    const st = fs.lstatSync(p);
    if (st.isFile()) out[name] = `${st.mtimeMs} ${fs.readFileSync(p).toString("base64")}`;
  }
  return out;
}

/** A paused run in a workspace of its own (outside the one under test). */
async function outsideRun(): Promise<{ dir: string; id: string }> {
  const ws = tempWorkspace("hyperat-outside-");
  const m = new RunManager({ runsDir: runsDirOf(ws), engineModule: FAKE_ENGINE, useWorkers: false });
  const events = new Collector<ManagerEvent>();
  m.onEvent(events.push);
  const id = await m.start(writeConfig(ws, "outside", { steps: 4, checkpointEvery: 2, stepMs: 5 }));
  await m.pause(id);
  await events.waitFor((e) => e.type === "status" && e.state === "paused", "paused");
  await m.shutdown();
  return { dir: path.join(runsDirOf(ws), id), id };
}

/** A workspace whose runs folder holds a symlink to `target` named like its run, and a folder
 * whose run.json claims the id `../../<...>/target`. */
function hostileWorkspace(target: { dir: string; id: string }): { ws: string; runsDir: string; evilDir: string; evilId: string } {
  const ws = tempWorkspace("hyperat-hostile-");
  const runsDir = runsDirOf(ws);
  fs.mkdirSync(runsDir, { recursive: true });
  fs.symlinkSync(target.dir, path.join(runsDir, target.id));
  const evilDir = path.join(runsDir, "evil");
  fs.mkdirSync(evilDir);
  const evilId = path.relative(runsDir, target.dir);
  const m = JSON.parse(fs.readFileSync(path.join(target.dir, "run.json"), "utf8")) as Record<string, unknown>;
  fs.writeFileSync(path.join(evilDir, "run.json"), JSON.stringify({ ...m, id: evilId }));
  fs.copyFileSync(path.join(target.dir, "config.json"), path.join(evilDir, "config.json"));
  return { ws, runsDir, evilDir, evilId };
}

describe("run paths stay inside the runs folder", () => {
  test("the daemon refuses symlinked runs and ../ ids for every request, and writes nothing outside", async () => {
    const target = await outsideRun();
    const before = snapshot(target.dir);
    const { ws, evilId } = hostileWorkspace(target);
    const d = spawnDaemon(ws);
    daemons.push(d);
    await d.conn.sendRequest(rpc.initialize, { workspaceFolder: ws });
    const ids = [target.id, evilId, `../${path.basename(path.dirname(path.dirname(path.dirname(target.dir))))}`, "evil/../" + target.id];
    for (const runId of ids) {
      for (const [method, params] of [
        [rpc.runStop, { runId }],
        [rpc.runPause, { runId }],
        [rpc.runResume, { runId }],
        [rpc.runGet, { runId }],
        [rpc.runMerge, { runId, strategy: "uniform" }],
        [rpc.runEvaluate, { runId }],
      ] as const) {
        await assert.rejects(d.conn.sendRequest(method as typeof rpc.runGet, params as rpc.RunIdParams), (e: unknown) => e instanceof ResponseError, `${method.method} ${runId}`);
      }
    }
    const { runs } = await d.conn.sendRequest(rpc.runsList);
    assert.deepEqual(runs.map((r) => r.id), [], "neither the link nor the folder with a foreign id is listed");
    assert.deepEqual(snapshot(target.dir), before);
  });

  test("the extension's reader refuses symlinks and ../ ids and lists neither", async () => {
    const target = await outsideRun();
    const { runsDir, evilId } = hostileWorkspace(target);
    const errors: string[] = [];
    const reader = diskRunReader(() => runsDir, (dir, e) => errors.push(`${path.basename(dir)}: ${e.message}`));
    assert.deepEqual(await reader.listRuns(), []);
    assert.ok(errors.some((e) => e.startsWith("evil:") && e.includes("/id")), errors.join("\n"));
    for (const id of [target.id, evilId, "../x", "."]) await assert.rejects(reader.readRun(id), (e: Error) => e.name === "UnknownRunError", id);
  });

  test("the CLI refuses a run folder whose written sub-folders are symlinks or whose run.json id is a path", async () => {
    const target = await outsideRun();
    const { evilDir } = hostileWorkspace(target);
    const outside = tempWorkspace("hyperat-sink-");
    // A run folder (copied, so it is a real one) whose checkpoints/ leads outside.
    const ws = tempWorkspace("hyperat-cli-");
    const dir = path.join(runsDirOf(ws), target.id);
    fs.cpSync(target.dir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "checkpoints"), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, "checkpoints"));
    const cli = (runDir: string) =>
      spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), "resume", runDir], {
        cwd: ROOT, env: { ...process.env, HYPERAT_ENGINE: FAKE_ENGINE }, encoding: "utf8",
      });
    const linked = cli(dir);
    assert.equal(linked.status, 1, linked.stderr);
    assert.match(linked.stderr, /checkpoints: is a symlink/);
    assert.deepEqual(fs.readdirSync(outside), []);
    const before = snapshot(evilDir);
    const evil = cli(evilDir);
    assert.equal(evil.status, 1, evil.stderr);
    assert.match(evil.stderr, /run\.json: \/id must be the run folder's name "evil"/);
    assert.deepEqual(snapshot(evilDir), before);
    assert.equal((await readManifest(target.dir)).state, "paused");
  });
});
