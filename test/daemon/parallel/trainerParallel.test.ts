import * as tf from "@tensorflow/tfjs";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { selectBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/config/validate";
import { buildTrainer } from "../../../src/core/train/build";
import { StepResult, Trainer } from "../../../src/core/train/trainer";
import { NonFiniteLossError } from "../../../src/core/train/nonFiniteLossError";
import { shardAttackStates } from "../../../src/core/parallel/trainShard";
import { shardSizes } from "../../../src/daemon/parallel/workerCount";
import { TrainerWorkers } from "../../../src/daemon/parallel/trainerParallel";
import { Rng } from "../../../src/core/rng";
import { RunConfig } from "../../../src/core/config/types";
import { blasSuiteSkip } from "../../blasSkip";
import { tinyConfig, randomParams, randomImages, randomLabels, snapshot, maxAbsDiff } from "../../core/model/tinyVit";

const vit = tinyConfig();
const BATCH = 5;
const DEFENSES = ["pgd-at", "trades", "mart"];

/** 2-step attacks; with seed 2 HyperAT samples all three defenses in its first 3 steps (asserted). */
function runConfig(method: "hyperat" | "lora-at", defenses = DEFENSES): RunConfig {
  return validateConfig({
    seed: 2,
    method,
    defenses: defenses.map((name) => ({ name })),
    lora: { rank: 2, alpha: 4, targets: ["qkv", "fc1"] },
    hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
    attack: { eps: "8/255", stepSize: "2/255", steps: 2 },
    optimizer: { lr: 0.01, warmupSteps: 0 },
    training: { steps: 10, batchSize: BATCH, workers: 2 },
  }) as RunConfig;
}

const backbone = () => randomParams(vit, 1, 0.2);

function batch(i: number) {
  return { x: randomImages(vit, BATCH, 100 + i), y: randomLabels(BATCH, vit.numClasses, 200 + i) };
}

function disposeTrainer(t: Trainer): void {
  t.dispose();
  t.args.tunable.dispose();
}

async function run(trainer: Trainer, steps: number, stepFn: (x: tf.Tensor4D, y: tf.Tensor1D) => StepResult | Promise<StepResult>): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (let i = 0; i < steps; i++) {
    const { x, y } = batch(i);
    try {
      out.push(await stepFn(x, y));
    } finally {
      tf.dispose([x, y]);
    }
  }
  return out;
}

/** max |a − b| / max |b| per tensor ≤ tol. */
function assertClose(a: Record<string, Float32Array>, b: Record<string, Float32Array>, tol: number, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const name of Object.keys(b)) {
    const scale = Math.max(1e-6, ...Array.from(b[name], Math.abs));
    const rel = maxAbsDiff(a[name], b[name]) / scale;
    assert.ok(rel <= tol, `${what}: "${name}" differs by ${rel} relative`);
  }
}

/** `steps` steps of one trainer and of a 2-worker TrainerWorkers on `backend`: same results, same tunables. */
async function twoWorkersMatchOne(method: "hyperat" | "lora-at", defenses: string[], steps: number, backend: "cpu" | "wasm", microBatch?: number): Promise<void> {
  const cfg = runConfig(method, defenses);
  const p1 = backbone();
  const single = buildTrainer(cfg, vit, p1);
  const p2 = backbone();
  const sharded = buildTrainer(cfg, vit, p2);
  const tw = await TrainerWorkers.create(cfg, vit, p2, sharded, { workers: 2, backend, microBatch });
  try {
    const init = snapshot(single.args.tunable.vars);
    const r1 = await run(single, steps, (x, y) => single.trainStep(x, y));
    const r2 = await run(sharded, steps, (x, y) => tw.step(x, y));
    assert.deepEqual(new Set(r1.map((r) => r.defense)), new Set(defenses), "the steps cover every defense");
    assert.deepEqual(r2.map((r) => r.defense), r1.map((r) => r.defense));
    r1.forEach((a, i) => {
      const b = r2[i];
      assert.equal(b.step, a.step);
      assert.ok(Math.abs(b.loss - a.loss) <= 1e-5 * Math.abs(a.loss), `step ${a.step} loss ${b.loss} vs ${a.loss}`);
      assert.ok(Math.abs(b.gradNorm - a.gradNorm) <= 1e-5 * a.gradNorm, `step ${a.step} grad norm ${b.gradNorm} vs ${a.gradNorm}`);
      // Same counts, summed in a different order.
      assert.ok(Math.abs(b.advAcc - a.advAcc) <= 1e-6 && Math.abs(b.cleanAcc - a.cleanAcc) <= 1e-6, `step ${a.step} accuracies`);
    });
    const after1 = snapshot(single.args.tunable.vars);
    assertClose(snapshot(sharded.args.tunable.vars), after1, 1e-5, method);
    assert.ok(Object.keys(init).some((n) => maxAbsDiff(init[n], after1[n]) > 1e-4), "training moved the tunables");
    assert.deepEqual(sharded.state().json, single.state().json, "step, optimizer and random streams advance alike");
  } finally {
    await tw.close();
    for (const t of [single, sharded]) disposeTrainer(t);
    tf.dispose([...Object.values(p1), ...Object.values(p2)]);
  }
}

describe("data-parallel training step (TrainerWorkers)", () => {
  before(async () => {
    await selectBackend("cpu");
  });

  test("per-shard attack streams reproduce the full-batch craft of every defense and end where it ends", () => {
    const cfg = runConfig("hyperat");
    const params = backbone();
    const trainer = buildTrainer(cfg, vit, params);
    const { x, y } = batch(0);
    try {
      for (let t = 0; t < DEFENSES.length; t++) {
        const full = Rng.fromSeed(5, "attack");
        const whole = tf.tidy(() => trainer.args.defenses[t].craft(trainer.attackModel(t), x, y, { ...trainer.args.attack, rng: full }));
        const walker = Rng.fromSeed(5, "attack");
        const sizes = shardSizes(BATCH, 2);
        const states = shardAttackStates(trainer, t, x, y, sizes, walker);
        assert.deepEqual(walker.state(), full.state(), `${DEFENSES[t]}: the stream ends where the full-batch craft leaves it`);
        let offset = 0;
        const parts = sizes.map((n, i) => {
          const p = tf.tidy(() =>
            trainer.args.defenses[t].craft(trainer.attackModel(t), x.slice([offset, 0, 0, 0], [n, -1, -1, -1]), y.slice([offset], [n]), {
              ...trainer.args.attack,
              rng: Rng.fromState(states[i]),
            }),
          );
          offset += n;
          return p;
        });
        const joined = tf.concat(parts);
        assert.ok(maxAbsDiff(joined.dataSync(), whole.dataSync()) <= 1e-6, `${DEFENSES[t]}: sharded craft equals the full-batch craft`);
        // The start is random: a different stream gives a different x'.
        tf.dispose([whole, joined, ...parts]);
      }
    } finally {
      tf.dispose([x, y]);
      disposeTrainer(trainer);
      tf.dispose(Object.values(params));
    }
  });

  // lora-at trains one defense: one run per defense; hyperat samples all three in one run.
  const cases = [
    { method: "hyperat" as const, defenses: DEFENSES, steps: 3 },
    ...DEFENSES.map((d) => ({ method: "lora-at" as const, defenses: [d], steps: 2 })),
  ];
  for (const { method, defenses, steps } of cases) {
    test(`${method} [${defenses}]: 2 workers give the 1-worker tunables after ${steps} steps`, () => twoWorkersMatchOne(method, defenses, steps, "cpu"));
  }

  // A model that needs micro-batches on one thread needs them on every worker: shards [3, 2] of
  // the batch of 5 run as micro-batches [1, 1, 1] and [1, 1], each continuing its shard's stream.
  test("hyperat [pgd-at,trades,mart]: 2 workers at micro-batch 1 give the 1-worker tunables after 3 steps", () => twoWorkersMatchOne("hyperat", DEFENSES, 3, "cpu", 1));

  describe("one 2-worker trainer", () => {
    const cfg = runConfig("hyperat");
    let params: ReturnType<typeof backbone>;
    let trainer: Trainer;
    let tw: TrainerWorkers;
    before(async () => {
      params = backbone();
      trainer = buildTrainer(cfg, vit, params);
      tw = await TrainerWorkers.create(cfg, vit, params, trainer, { workers: 2, backend: "cpu" });
    });
    after(async () => {
      await tw.close();
      disposeTrainer(trainer);
      tf.dispose(Object.values(params));
    });

    test("does not leak tensors across steps", async () => {
      await run(trainer, 1, (x, y) => tw.step(x, y));
      const n0 = tf.memory().numTensors;
      await run(trainer, 2, (x, y) => tw.step(x, y));
      assert.equal(tf.memory().numTensors, n0);
    });

    test("a NaN in a helper's shard raises NonFiniteLossError; nothing is updated or leaked", async () => {
      const before = snapshot(trainer.args.tunable.vars);
      const step = trainer.step;
      const n0 = tf.memory().numTensors;
      const { x, y } = batch(9);
      // The last sample is in the helper's shard (shards [3, 2]).
      const bad = tf.tidy(() => tf.where(tf.equal(tf.range(0, x.size).reshape(x.shape), x.size - 1), tf.fill(x.shape, NaN), x) as tf.Tensor4D);
      await assert.rejects(tw.step(bad, y), (e: unknown) => e instanceof NonFiniteLossError && e.step === step);
      tf.dispose([x, y, bad]);
      assert.equal(trainer.step, step);
      assertClose(snapshot(trainer.args.tunable.vars), before, 0, "after NaN");
      assert.equal(tf.memory().numTensors, n0);
    });

    test("close terminates the helpers: a later step fails instead of waiting", async () => {
      await tw.close();
      const { x, y } = batch(0);
      await assert.rejects(tw.step(x, y), /step after close/);
      tf.dispose([x, y]);
    });
  });
});

// wasm with a native BLAS behind matMul: the helper threads call the process's one BLAS
// concurrently (one thread each). Without a BLAS the suite is skipped saying why, except in CI.
describe("data-parallel training step (TrainerWorkers) on wasm + BLAS", { skip: blasSuiteSkip() }, () => {
  before(async () => {
    const info = await selectBackend("wasm");
    if (!info.blas) throw new Error(`wasm matMul is not on a native BLAS: ${info.blasUnavailable}`);
  });
  after(async () => {
    await selectBackend("cpu");
  });

  test("hyperat [pgd-at,trades,mart]: 2 workers give the 1-worker tunables after 3 steps", () => twoWorkersMatchOne("hyperat", DEFENSES, 3, "wasm"));
});
