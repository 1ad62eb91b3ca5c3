// hyperat/config.check's pass (src/daemon/configCheck.ts): every problem of a document at its
// JSON path, not only the first; memory-plan warnings as warnings; a clean config gives none;
// nothing is written.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { checkConfigText } from "../../src/daemon/configCheck";
import { tinyTimmModel } from "../fuzz/modelFixture";
import { tempWorkspace } from "./helpers";

let ws: string;
let model: string;
before(() => {
  ws = tempWorkspace("hyperat-config-check-");
  model = path.join(ws, "tiny.safetensors");
  fs.writeFileSync(model, tinyTimmModel({ dim: 16, depth: 2, mlpDim: 32, patch: 4, grid: 8, classes: 10 }));
});
after(() => fs.rmSync(ws, { recursive: true, force: true }));

const SMALL = {
  name: "check",
  model: { preset: "vit-micro", imgSize: 32, patchSize: 8, pretrain: { steps: 1, cacheDir: "cache" } },
  data: { train: "synthetic:shapes10?n=32", val: "synthetic:shapes10?n=8&seed=2", test: "synthetic:shapes10?n=8&seed=3" },
  training: { steps: 2, batchSize: 4, validationN: 4, validationAttack: "pgd-1" },
  evaluation: { attacks: "quick", n: 8, batchSize: 8 },
};

const configPath = () => path.join(ws, "unsaved.hyperat.json");
const listing = () => fs.readdirSync(ws).sort();

test("a clean config has no problems, and checking it writes nothing", async () => {
  const before = listing();
  assert.deepEqual(await checkConfigText(JSON.stringify(SMALL), configPath()), []);
  assert.deepEqual(listing(), before, "no run folder, no cache folder, not the document");
});

test("every problem of the pass comes back at its own JSON path, each once", async () => {
  const text = JSON.stringify({
    ...SMALL,
    model: { path: "missing.safetensors" },
    data: { ...SMALL.data, train: "synthetic:shapes11", test: "./nowhere/test_batch.bin" },
    training: { ...SMALL.training, validationAttack: "pgd-abc" },
    evaluation: { ...SMALL.evaluation, attacks: "bogus" },
  });
  const problems = await checkConfigText(text, configPath());
  const byPath = new Map(problems.map((p) => [p.jsonPath, p]));
  assert.deepEqual([...byPath.keys()].sort(), ["/data/test", "/data/train", "/evaluation/attacks", "/model/path", "/training/validationAttack"], JSON.stringify(problems, null, 1));
  assert.equal(problems.length, byPath.size, "one problem per path");
  assert.ok(problems.every((p) => p.severity === "error"));
  assert.match(byPath.get("/model/path")!.message, new RegExp(`file not found: ${path.join(ws, "missing.safetensors")}`));
  assert.match(byPath.get("/data/test")!.message, /file not found: .*nowhere\/test_batch\.bin/);
  assert.match(byPath.get("/data/train")!.message, /unknown synthetic dataset "shapes11"/);
  assert.match(byPath.get("/training/validationAttack")!.message, /unknown attack "pgd-abc"/);
  assert.match(byPath.get("/evaluation/attacks")!.message, /unknown attack "bogus"/);
  assert.ok(problems.every((p) => !p.message.includes(configPath())), "the message is the detail, without the file and path prefix");
});

test("the model header is read from the unsaved text's paths: a LoRA rank over the model's width", async () => {
  const text = JSON.stringify({ ...SMALL, model: { path: "tiny.safetensors" }, lora: { targets: ["qkv"], rank: 32, alpha: 4 } });
  const problems = await checkConfigText(text, configPath());
  assert.deepEqual(problems.map((p) => [p.jsonPath, p.severity]), [["/lora/rank", "error"]], JSON.stringify(problems));
  assert.match(problems[0].message, /rank 32 is over min\(d_in, d_out\) = 16/);
});

test("an evaluation batch over the memory limit is planned down (no diagnostic); training over it is an error at its setting", async () => {
  const big = await checkConfigText(JSON.stringify({ ...SMALL, evaluation: { ...SMALL.evaluation, batchSize: 100000 } }), configPath());
  assert.deepEqual(big, []);
  const err = await checkConfigText(JSON.stringify({ ...SMALL, training: { ...SMALL.training, batchSize: 100000, microBatchSize: 100000 } }), configPath());
  assert.ok(err.some((p) => p.jsonPath === "/training/microBatchSize" && p.severity === "error" && /^memory plan: train at/.test(p.message)), JSON.stringify(err));
});

test("a schema or JSON error stops the pass with that one problem", async () => {
  assert.deepEqual((await checkConfigText(JSON.stringify({ ...SMALL, training: { ...SMALL.training, steps: 1e300 } }), configPath())).map((p) => p.jsonPath), ["/training/steps"]);
  const bad = await checkConfigText("{ \"name\": ", configPath());
  assert.equal(bad.length, 1);
  assert.equal(bad[0].jsonPath, "");
  assert.match(bad[0].message, /^invalid JSON/);
});
