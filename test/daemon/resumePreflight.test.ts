// `resume` (the CLI's adopt + resume and the daemon's run.resume by id) reruns the up-front pass
// on the run's frozen config.json (src/daemon/engine/configFile.ts recheckFrozenConfigFile):
// a data file deleted or a model file replaced by a directory since the start is refused with
// the JSON path, and the run folder keeps every byte (state unchanged, nothing written).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { encodeCifar10 } from "../../src/core/data/cifar";
import { shapes10 } from "../../src/core/data/synthetic";
import { ConfigError } from "../../src/core/config/configError";
import { MissingFileError } from "../../src/daemon/errors";
import { RunManager } from "../../src/daemon/runManager";
import { readManifest, runsDirOf } from "../../src/daemon/runStore";
import { tinyTimmModel } from "../fuzz/modelFixture";
import { tempWorkspace } from "./helpers";

const ENGINE = path.resolve(__dirname, "failingStepEngine.ts");
let ws: string;

before(() => {
  ws = tempWorkspace("hyperat-resume-preflight-");
});
after(() => fs.rmSync(ws, { recursive: true, force: true }));

/** Every file under `dir` with its bytes, sorted by path: what "untouched" means. */
function snapshot(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push([path.relative(dir, p), fs.readFileSync(p).toString("base64")]);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** A run that passed the pass at start and failed at its first step (resumable). */
async function failedRun(name: string): Promise<{ dir: string; id: string; data: string; model: string }> {
  const data = path.join(ws, `${name}-train.bin`);
  fs.writeFileSync(data, encodeCifar10(shapes10({ n: 20, seed: 4 })));
  const model = path.join(ws, `${name}.safetensors`);
  fs.writeFileSync(model, tinyTimmModel({ dim: 16, depth: 2, mlpDim: 32, patch: 4, grid: 8, classes: 10 }));
  const configPath = path.join(ws, `${name}.hyperat.json`);
  fs.writeFileSync(configPath, JSON.stringify({
    name,
    method: "lora-at",
    model: { path: model },
    data: { train: data, val: { from: "train", n: 4 }, test: "synthetic:shapes10?n=8&seed=3" },
    defenses: [{ name: "pgd-at" }],
    lora: { targets: ["qkv"], rank: 2, alpha: 4 },
    attack: { eps: "8/255", stepSize: "2/255", steps: 1 },
    training: { steps: 3, batchSize: 4, checkpointEvery: 2, validationN: 4, validationAttack: "pgd-1" },
    evaluation: { attacks: "quick", n: 8, batchSize: 8 },
  }));
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: ENGINE, useWorkers: false });
  try {
    const id = await manager.start(configPath);
    await manager.idle();
    const dir = path.join(runsDirOf(ws), id);
    assert.equal((await readManifest(dir)).state, "failed", "the test engine's first step fails");
    return { dir, id, data, model };
  } finally {
    await manager.shutdown();
  }
}

test("resume by id after the data file was deleted: MissingFile at /data/train, the run folder unchanged", async () => {
  const run = await failedRun("gone");
  fs.rmSync(run.data);
  const before = snapshot(run.dir);
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: ENGINE, useWorkers: false });
  try {
    await assert.rejects(manager.resume(run.id), (e: Error) => {
      assert.ok(e instanceof MissingFileError, `${e.name}: ${e.message}`);
      assert.equal(e.jsonPath, "/data/train");
      assert.equal(e.file, run.data);
      assert.match(e.message, new RegExp(`${path.join(run.dir, "config.json").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} /data/train`));
      return true;
    });
  } finally {
    await manager.shutdown();
  }
  assert.deepEqual(snapshot(run.dir), before);
  assert.equal((await readManifest(run.dir)).state, "failed");
});

test("resume DIR (the CLI's adopt + resume) after the model file became a directory: ConfigError at /model/path, the run folder unchanged", async () => {
  const run = await failedRun("swapped");
  fs.rmSync(run.model);
  fs.mkdirSync(run.model);
  const before = snapshot(run.dir);
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: ENGINE, useWorkers: false });
  try {
    const id = await manager.adopt(run.dir);
    await assert.rejects(manager.resume(id), (e: Error) => {
      assert.ok(e instanceof ConfigError, `${e.name}: ${e.message}`);
      assert.equal(e.jsonPath, "/model/path");
      assert.equal(e.file, path.join(run.dir, "config.json"));
      assert.match(e.detail, /has no model\.safetensors/);
      return true;
    });
  } finally {
    await manager.shutdown();
  }
  assert.deepEqual(snapshot(run.dir), before);
  assert.equal((await readManifest(run.dir)).state, "failed");
});

test("resume after the files are back goes ahead (the recheck refuses only what is wrong)", async () => {
  const run = await failedRun("back");
  const kept = fs.readFileSync(run.data);
  fs.rmSync(run.data);
  const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: ENGINE, useWorkers: false });
  try {
    await assert.rejects(manager.resume(run.id), /file not found/);
    fs.writeFileSync(run.data, kept);
    assert.ok(["queued", "running"].includes((await manager.resume(run.id)).state));
    await manager.idle();
  } finally {
    await manager.shutdown();
  }
  assert.equal((await readManifest(run.dir)).state, "failed", "the resumed run reached its (failing) first step again");
});
