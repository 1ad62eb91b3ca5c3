import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { HyperatEngine } from "../../../src/daemon/engine/hyperatEngine";
import type { TrainEvent } from "../../../src/daemon/compute/contract";
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
  const events: TrainEvent[] = [];
  await first.runStep((e) => events.push(e));
  // A fresh run reports its base model's clean accuracy before its first step (issue 16 item 2).
  const baseEvent = events[0];
  assert.ok(baseEvent.kind === "baseModel", `first event: ${baseEvent.kind}`);
  assert.ok(baseEvent.cleanAccuracy >= 0 && baseEvent.cleanAccuracy <= 1 && baseEvent.n === 8 && baseEvent.numClasses === 10, JSON.stringify(baseEvent));
  assert.equal(baseEvent.nearChance, baseEvent.cleanAccuracy < 0.2);
  // validateEvery 1: the validation of step 1 is announced before its records.
  const kinds = events.map((e) => e.kind);
  assert.ok(kinds.indexOf("validating") >= 0 && kinds.indexOf("validating") < kinds.indexOf("validation"), kinds.join(","));
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
    const adaptive = await engine.merge(runDir, rc, "adaptive", () => {});
    // The merge's evidence: its objective at the first and last λ step (merge.steps = 1).
    assert.ok(adaptive.objective && adaptive.objective.steps === 1 && Number.isFinite(adaptive.objective.before) && adaptive.objective.after === adaptive.objective.before, JSON.stringify(adaptive.objective));
    assert.equal(tf.memory().numTensors, base, `round ${round}: merges`);
    const report = await engine.evaluate(runDir, rc, "pgd-1", () => {});
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
