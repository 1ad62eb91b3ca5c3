// The flagship example, unchanged, against CIFAR-10-format data and a small timm-named ViT put
// where the README's download steps put the real ones: its config loads, its data specs give the
// splits they say, and a training step runs (issue 12). ViT-B/16 itself is too big for CI; the
// fixture ViT has a width (48) that the example's 12 heads divide.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HyperatEngine } from "../src/daemon/engine/hyperatEngine";
import { loadSplit } from "../src/daemon/engine/runData";
import { RunConfig } from "../src/core/config/types";
import { TrainEvent } from "../src/daemon/compute/contract";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-flagship-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** n CIFAR-10 records with label i % 10 and pixel bytes from a fixed pattern. */
function cifar10Records(n: number, salt: number): Buffer {
  const rec = 3073;
  const out = Buffer.alloc(n * rec);
  for (let i = 0; i < n; i++) {
    out[i * rec] = i % 10;
    for (let p = 1; p < rec; p++) out[i * rec + p] = (i * 31 + p * 7 + salt) & 0xff;
  }
  return out;
}

test("examples/cifar10-vit-b16.hyperat.json runs unchanged against CIFAR-10 binary data", async () => {
  const ex = path.join(__dirname, "..", "examples", "cifar10-vit-b16.hyperat.json");
  const configPath = path.join(root, "cifar10-vit-b16.hyperat.json");
  fs.copyFileSync(ex, configPath);
  const bin = path.join(root, "data", "cifar-10-batches-bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "data_batch_1.bin"), cifar10Records(256, 1));
  fs.writeFileSync(path.join(bin, "test_batch.bin"), cifar10Records(10000, 2));
  fs.mkdirSync(path.join(root, "models"));
  fs.copyFileSync(path.join(__dirname, "fixtures", "timm-vit", "model.safetensors"), path.join(root, "models", "vit_base_patch16_224.augreg_in21k_ft_in1k.safetensors"));

  const engine = new HyperatEngine();
  const rc = await engine.loadConfig(configPath);
  const cfg = rc.raw as RunConfig;
  const test = await loadSplit(cfg, "test");
  assert.equal(test.n, 9000);
  const { val, train } = await (async () => {
    const prepared = await engine.prepare(cfg);
    const out = { val: prepared.val, train: prepared.train };
    for (const t of Object.values(prepared.backbone.params)) t.dispose();
    return out;
  })();
  assert.equal(train.n, 256);
  assert.equal(val.n, 1000);
  assert.deepEqual([...val.labels.subarray(0, 3)], [0, 1, 2]); // record 9000 has label 9000 % 10
  assert.equal(val.images[0], Math.fround(((9000 * 31 + 7 + 2) & 0xff) / 255)); // first R byte of record 9000

  const runDir = path.join(root, "run");
  fs.mkdirSync(path.join(runDir, "checkpoints"), { recursive: true });
  const session = await engine.openSession(runDir, rc, false);
  try {
    const events: TrainEvent[] = [];
    await session.runStep((e) => events.push(e));
    const step = events.find((e) => e.kind === "step");
    assert.ok(step && step.kind === "step" && Number.isFinite(step.loss), JSON.stringify(events));
    assert.equal(session.totalSteps, 20000);
  } finally {
    session.dispose();
  }
});
