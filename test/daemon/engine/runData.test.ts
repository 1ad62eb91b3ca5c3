import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateConfig } from "../../../src/core/config/validate";
import { ConfigError } from "../../../src/core/config/configError";
import { DATA_SPLIT_FILE, loadTrainVal, recordDataSplit } from "../../../src/daemon/engine/runData";
import { loadConfigFile } from "../../../src/daemon/engine/configFile";

test("data.val { from: train, n } validates; other shapes are schema errors at /data/val", () => {
  assert.deepEqual(validateConfig({ data: { val: { from: "train", n: 5 } } }).data.val, { from: "train", n: 5 });
  assert.throws(() => validateConfig({ data: { val: { from: "test", n: 5 } } }), (e: ConfigError) => e.jsonPath.startsWith("/data/val"));
  assert.throws(() => validateConfig({ data: { val: { from: "train" } } }), (e: ConfigError) => e.jsonPath.startsWith("/data/val"));
});

test("a held-out val is taken out of train, recorded in data-split.json, and checked on reuse", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-rundata-"));
  try {
    const cfg = validateConfig({ seed: 5, data: { train: "synthetic:shapes10?n=30&seed=1", val: { from: "train", n: 6 }, test: "synthetic:shapes10?n=4&seed=3" } });
    const data = await loadTrainVal(cfg);
    assert.equal(data.train.n, 24);
    assert.equal(data.val.n, 6);
    await recordDataSplit(dir, cfg, data);
    const doc = JSON.parse(fs.readFileSync(path.join(dir, DATA_SPLIT_FILE), "utf8"));
    assert.deepEqual(doc.valIndices, data.valIndices);
    assert.equal(doc.trainSamples, 30);
    await recordDataSplit(dir, cfg, data); // same data: accepted
    const grown = validateConfig({ ...cfg, data: { ...cfg.data, train: "synthetic:shapes10?n=31&seed=1" } });
    await assert.rejects(recordDataSplit(dir, grown, await loadTrainVal(grown)), /data-split\.json: the training data .* no longer gives the held-out images .*\(30 samples then, 31 now\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a config file whose val window overlaps test is rejected at load, naming the JSON path", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-overlap-"));
  try {
    const file = path.join(dir, "x.hyperat.json");
    fs.writeFileSync(file, JSON.stringify({ data: { val: "synthetic:shapes10?n=10&seed=3", test: "synthetic:shapes10?n=10&seed=3&offset=9" } }));
    await assert.rejects(loadConfigFile(file), (e: ConfigError) => e instanceof ConfigError && e.jsonPath === "/data/test" && /overlaps \/data\/val/.test(e.message) && e.message.startsWith(file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
