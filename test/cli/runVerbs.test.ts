// The run verbs as a user runs them: a separate `hyperat` process on the fake engine.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { FAKE_ENGINE, tempWorkspace, writeConfig } from "../daemon/helpers";
import type { RunSummary } from "../../src/protocol/runs";

const ROOT = path.resolve(__dirname, "../..");
const CLI = ["--import", "tsx", path.join(ROOT, "src/cli/main.ts")];
const env = { ...process.env, HYPERAT_ENGINE: FAKE_ENGINE };

function hyperat(args: string[]) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("hyperat train | runs | merge | resume", () => {
  test("train runs to completion, runs --json lists it, merge writes the merged model", () => {
    const ws = tempWorkspace("hyperat-cli-");
    const t = hyperat(["train", writeConfig(ws, "cli", { steps: 4 }), "--workspace", ws]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.err, /step 4\/4 /); // plain lines when not a TTY
    assert.match(t.err, /run \S+ completed \(4\/4 steps\)/);

    const list = hyperat(["runs", "--json", "--workspace", ws]);
    const runs = (JSON.parse(list.out) as { runs: RunSummary[] }).runs;
    assert.equal(runs.length, 1);
    assert.equal(runs[0].state, "completed");
    const table = hyperat(["runs", "--workspace", ws]);
    assert.match(table.out, new RegExp(`^ID +STATE .*\\n${runs[0].id} +completed +4/4 +hyperat`, "m"));

    const m = hyperat(["merge", runs[0].dir, "--strategy", "uniform", "--json"]);
    assert.equal(m.code, 0, m.err);
    assert.ok(fs.existsSync(JSON.parse(m.out).modelPath));
    const bad = hyperat(["merge", runs[0].dir, "--strategy", "median"]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /--strategy: must be "uniform" or "adaptive", got "median"/);
  });

  test("Ctrl-C pauses a training run with a checkpoint; resume RUN_DIR finishes it", async () => {
    const ws = tempWorkspace("hyperat-cli-");
    const runDir = path.join(ws, "my-run");
    const child = spawn(process.execPath, [...CLI, "train", writeConfig(ws, "sig", { steps: 30, stepMs: 100 }), "--run-dir", runDir], { cwd: ROOT, env });
    let err = "";
    const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
    const stepping = new Promise<void>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        if (/^step \d+\/30/m.test(err)) resolve(); // a training step line, not a status line
      }),
    );
    await Promise.race([stepping, exited.then((c) => assert.fail(`hyperat train exited early (${c}): ${err}`))]);
    child.kill("SIGINT");
    assert.equal(await exited, 0, err);
    assert.match(err, /run my-run paused at step (\d+)\/30; continue with: hyperat resume /);
    const step = Number(/paused at step (\d+)\/30/.exec(err)![1]);
    assert.ok(step < 30);
    assert.ok(fs.existsSync(path.join(runDir, "checkpoints", `step-${step}.safetensors`)));

    const r = hyperat(["resume", runDir]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /run my-run completed \(30\/30 steps\)/);
  });

  test("an invalid config exits 1 with the JSON path", () => {
    const ws = tempWorkspace("hyperat-cli-");
    const r = hyperat(["train", writeConfig(ws, "bad", { checkpointEvery: "often" }), "--workspace", ws]);
    assert.equal(r.code, 1);
    assert.match(r.err, /hyperat: .*bad\.hyperat\.json: \/checkpointEvery: must be a positive integer/);
  });
});
