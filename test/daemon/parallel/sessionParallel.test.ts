import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { selectBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/config/validate";
import { RunConfig } from "../../../src/core/config/types";
import { Dataset } from "../../../src/core/data/types";
import { Rng } from "../../../src/core/rng";
import { HyperatSession } from "../../../src/daemon/engine/trainSession";
import type { TrainerWorkers } from "../../../src/daemon/parallel/trainerParallel";
import type { TrainEvent } from "../../../src/daemon/compute/contract";
import { tinyConfig, randomParams, snapshot, maxAbsDiff } from "../../core/model/tinyVit";

const vit = tinyConfig();

function dataset(n: number, seed: number): Dataset {
  const rng = Rng.fromSeed(seed, "session-data");
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

function runConfig(workers: number): RunConfig {
  return validateConfig({
    seed: 2,
    method: "hyperat",
    data: { augment: false },
    defenses: [{ name: "pgd-at" }, { name: "trades" }, { name: "mart" }],
    lora: { rank: 2, alpha: 4, targets: ["qkv", "fc1"] },
    hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
    attack: { eps: "8/255", stepSize: "2/255", steps: 1 },
    optimizer: { lr: 0.01, warmupSteps: 0 },
    training: { steps: 100, batchSize: 6, workers, validateEvery: 0, normsEvery: 100 },
  }) as RunConfig;
}

async function session(workers: number, dir: string): Promise<HyperatSession> {
  const backbone = { vit, params: randomParams(vit, 1, 0.2), source: "test", notes: [] };
  return HyperatSession.open(dir, runConfig(workers), backbone, dataset(24, 1), dataset(6, 2), false);
}

describe("HyperatSession with training.workers", () => {
  before(async () => {
    await selectBackend("cpu");
  });

  test("workers 2 trains like workers 1 through runStep; dispose terminates the helpers", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hyperat-session-parallel-"));
    const one = await session(1, dir);
    const two = await session(2, dir);
    try {
      const events: TrainEvent[][] = [[], []];
      for (let s = 0; s < 2; s++) {
        await one.runStep((e) => events[0].push(e));
        await two.runStep((e) => events[1].push(e));
      }
      assert.equal(two.step, 2);
      assert.deepEqual(
        events[1].map((e) => (e.kind === "step" ? e.defense : e.kind)),
        events[0].map((e) => (e.kind === "step" ? e.defense : e.kind)),
      );
      const a = snapshot(two.trainer.args.tunable.vars);
      const b = snapshot(one.trainer.args.tunable.vars);
      for (const n of Object.keys(b)) {
        const scale = Math.max(1e-6, ...Array.from(b[n], Math.abs));
        assert.ok(maxAbsDiff(a[n], b[n]) / scale <= 1e-5, `"${n}" differs`);
      }
      const helpers = await (two as unknown as { parallel: Promise<TrainerWorkers> }).parallel;
      assert.equal(helpers.workers, 2);
      two.dispose();
      await helpers.close(); // the close dispose started: resolves once both threads have exited
      const x = tf.zeros([2, 8, 8, 3]) as tf.Tensor4D;
      const y = tf.zeros([2], "int32") as tf.Tensor1D;
      await assert.rejects(helpers.step(x, y), /step after close/);
      tf.dispose([x, y]);
    } finally {
      one.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
