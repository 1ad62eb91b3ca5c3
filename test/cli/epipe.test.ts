// `hyperat train 2>&1 | head` must not kill training: when the reader of stdout/stderr goes
// away, output switches off and the run trains to the end with its checkpoints.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { readRunSummary, runsDirOf } from "../../src/daemon/runStore";
import { FAKE_ENGINE, tempWorkspace, writeConfig } from "../daemon/helpers";

const ROOT = path.resolve(__dirname, "../..");

test("a closed stdout and stderr switch output off; training completes and exits 0", { timeout: 60_000 }, async () => {
  const ws = tempWorkspace("hyperat-epipe-");
  const cfg = writeConfig(ws, "pipe", { steps: 40, checkpointEvery: 10, stepMs: 10 });
  // Both streams into one pipe whose reader leaves after the first bytes, as `2>&1 | head -c1` does.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), "train", cfg, "--workspace", ws, "--verbose"], {
    cwd: ROOT,
    env: { ...process.env, HYPERAT_ENGINE: FAKE_ENGINE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let sawOutput = false;
  for (const s of [child.stdout!, child.stderr!]) {
    s.once("data", () => {
      sawOutput = true;
      child.stdout!.destroy();
      child.stderr!.destroy();
    });
  }
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  assert.ok(sawOutput, "the CLI printed nothing before the pipe closed");
  assert.equal(code, 0);
  const [id] = fs.readdirSync(runsDirOf(ws));
  const run = await readRunSummary(path.join(runsDirOf(ws), id));
  assert.equal(run.state, "completed");
  assert.ok(fs.existsSync(path.join(runsDirOf(ws), id, "checkpoints", "step-40.json")));
});
