import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { HyperatEngine } from "../../../src/daemon/hyperat/engine";
import { selectBackend } from "../../../src/core/backend/select";
import { EXAMPLES_FILE, parseExamples } from "../../../src/core/evaluate/examplesFile";
import { readSafetensorsFile } from "../../../src/core/io/files";

// The CLI trains in-process, so one process may open many sessions, merges and evaluations in a
// row: each must give back every tensor it created.
test("sessions, merges and evaluations free every tensor they create", async () => {
  await selectBackend("wasm");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-leak-"));
  const configPath = path.join(dir, "tiny.hyperat.json");
  fs.writeFileSync(
    configPath,
    JSON.stringify({
      name: "tiny",
      backend: "wasm",
      model: { preset: "vit-micro", imgSize: 32, patchSize: 16, pretrain: { steps: 2, batchSize: 8, cacheDir: path.join(dir, "cache") } },
      data: { train: "synthetic:shapes10?n=32&seed=1", val: "synthetic:shapes10?n=16&seed=2", test: "synthetic:shapes10?n=8&seed=3", augment: false },
      lora: { rank: 2, alpha: 4 },
      hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
      attack: { steps: 1 },
      training: { steps: 2, batchSize: 8, normsEvery: 1, validateEvery: 1, validationN: 8, validationAttack: "pgd-1" },
      merge: { steps: 1, batchSize: 8, attackSteps: 1 },
      evaluation: { n: 8, batchSize: 8 },
    }),
  );
  const engine = new HyperatEngine();
  const rc = await engine.loadConfig(configPath);
  const runDir = path.join(dir, "run");
  // Warm-up: pretraining writes the cache; kernels and caches settle.
  const first = await engine.openSession(runDir, rc, false);
  await first.runStep(() => {});
  await first.saveCheckpoint();
  first.dispose();
  const base = tf.memory().numTensors;
  for (let round = 0; round < 2; round++) {
    const s = await engine.openSession(runDir, rc, true);
    await s.runStep(() => {});
    await s.saveCheckpoint();
    await s.saveAdapters();
    s.dispose();
    assert.equal(tf.memory().numTensors, base, `round ${round}: session`);
    await engine.merge(runDir, rc, "uniform", () => {});
    await engine.merge(runDir, rc, "adaptive", () => {});
    assert.equal(tf.memory().numTensors, base, `round ${round}: merges`);
    const report = (await engine.evaluate(runDir, rc, "pgd-1", () => {})) as { models: Array<{ target: string; result: Record<string, unknown> }> };
    assert.equal(tf.memory().numTensors, base, `round ${round}: evaluation`);
    // The dashboard's example strip: every evaluated model's 8 test images, written atomically
    // next to the report; report.json itself keeps only numbers.
    const file = path.join(runDir, EXAMPLES_FILE);
    const examples = parseExamples(await readSafetensorsFile(file), file);
    assert.deepEqual(examples.models.map((m) => m.target), report.models.map((m) => m.target));
    assert.deepEqual([examples.k, examples.height, examples.width], [8, 32, 32]);
    assert.ok(report.models.every((m) => !("examples" in m.result)));
    assert.deepEqual(fs.readdirSync(runDir).filter((f) => f.includes(".tmp")), [], "no temp files left");
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
