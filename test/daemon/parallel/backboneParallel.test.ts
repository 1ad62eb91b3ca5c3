import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { selectBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/config/validate";
import { RunConfig } from "../../../src/core/config/types";
import { Dataset } from "../../../src/core/data/types";
import { disposeParams } from "../../../src/core/model/params";
import { Rng } from "../../../src/core/rng";
import { resolveBackbone } from "../../../src/daemon/engine/backbone";
import { snapshot, maxAbsDiff } from "../../core/model/tinyVit";

function dataset(n: number): Dataset {
  const rng = Rng.fromSeed(4, "backbone-data");
  return {
    images: rng.fillUniform(n * 8 * 8 * 3, 0, 1),
    labels: Int32Array.from({ length: n }, () => rng.int(3)),
    n,
    height: 8,
    width: 8,
    numClasses: 3,
    classNames: ["a", "b", "c"],
    source: "test",
  } as Dataset;
}

function runConfig(workers: number, cacheDir: string): RunConfig {
  return validateConfig({
    seed: 1,
    method: "hyperat",
    model: { preset: "vit-micro", imgSize: 8, patchSize: 4, pretrain: { steps: 2, lr: 0.001, batchSize: 6, cacheDir } },
    data: { augment: false },
    defenses: [{ name: "pgd-at" }],
    training: { steps: 10, batchSize: 6, workers },
  }) as RunConfig;
}

describe("resolveBackbone with training.workers", () => {
  before(async () => {
    await selectBackend("cpu");
  });

  test("workers 2 clean-pretrains the same backbone as workers 1 (float reassociation aside)", async () => {
    const dirs = await Promise.all([1, 2].map((w) => fs.mkdtemp(path.join(os.tmpdir(), `hyperat-backbone-w${w}-`))));
    try {
      const train = dataset(24);
      const one = await resolveBackbone(runConfig(1, dirs[0]), train);
      const two = await resolveBackbone(runConfig(2, dirs[1]), train);
      assert.match(two.notes.join(" "), /clean-pretrained for 2 steps/);
      const a = snapshot(two.params);
      const b = snapshot(one.params);
      // The wiring test (pretrainParallel.test.ts checks the 1e-5 agreement): from initParams'
      // zero head and biases the first updates are Adam steps on near-zero gradients, where
      // m/√v magnifies float reassociation, so the bound here is 1e-3 of each tensor's scale.
      // The key bias of qkv (zero gradient in exact arithmetic) is left out for the same reason.
      for (const n of Object.keys(b).filter((k) => !k.endsWith("qkv.bias"))) {
        const scale = Math.max(1e-6, ...Array.from(b[n], Math.abs));
        assert.ok(maxAbsDiff(a[n], b[n]) <= 1e-3 * scale, `"${n}" differs by ${maxAbsDiff(a[n], b[n]) / scale} relative`);
      }
      disposeParams(one.params);
      disposeParams(two.params);
    } finally {
      for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
    }
  });
});
