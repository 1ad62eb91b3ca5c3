import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { validateConfig } from "../../../src/core/config/validate";
import { buildTrainer } from "../../../src/core/train/build";
import { Trainer, StepResult, accuracy } from "../../../src/core/train/trainer";
import { NonFiniteLossError } from "../../../src/core/train/nonFiniteLossError";
import { ParamMap, disposeParams, initParams } from "../../../src/core/model/params";
import { targetPaths } from "../../../src/core/model/lora";
import { Rng } from "../../../src/core/rng";
import { tinyConfig, randomParams, randomImages, randomLabels, snapshot, sameBits } from "../model/tinyVit";

const vit = tinyConfig();
const BATCH = 4;

type Method = "hyperat" | "lora-at" | "full-at";

/** A tiny run config: 1-step attacks, small hypernetwork, short schedule. */
function runConfig(method: Method, over: Record<string, unknown> = {}) {
  return validateConfig({
    seed: 3,
    method,
    defenses: [{ name: "pgd-at" }, { name: "trades", weight: 2 }, { name: "mart" }],
    lora: { rank: 2, alpha: 4, targets: ["qkv", "fc1"] },
    hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
    attack: { eps: "8/255", stepSize: "4/255", steps: 1 },
    optimizer: { lr: 0.01, warmupSteps: 2 },
    training: { steps: 12, batchSize: BATCH },
    ...over,
  });
}

/** Batch i of a fixed stream (the data loader is not under test here). */
function batch(i: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return { x: randomImages(vit, BATCH, 100 + i), y: randomLabels(BATCH, vit.numClasses, 200 + i) };
}

/** Steps on batches from..to−1, one after another. */
async function steps(trainer: Trainer, from: number, to: number): Promise<StepResult[]> {
  const out: StepResult[] = [];
  for (let i = from; i < to; i++) out.push(await step(trainer, i));
  return out;
}

async function step(trainer: Trainer, i: number): Promise<StepResult> {
  const { x, y } = batch(i);
  try {
    return await trainer.trainStep(x, y);
  } finally {
    tf.dispose([x, y]);
  }
}

function disposeTrainer(trainer: Trainer): void {
  trainer.dispose();
  trainer.args.tunable.dispose();
}

/** A pretrained-looking backbone: non-zero everything, so any change shows. */
const backbone = (): ParamMap => randomParams(vit, 1, 0.2);

const BACKBONE_NAMES = Object.keys(initParams(vit, 0)).filter((n) => !n.startsWith("head."));

describe("Trainer", () => {
  before(async () => {
    await selectTestBackend();
  });

  const frozen: Array<{ method: Method; backboneChanges: boolean }> = [
    { method: "hyperat", backboneChanges: false },
    { method: "lora-at", backboneChanges: false },
    { method: "full-at", backboneChanges: true },
  ];
  for (const f of frozen) {
    test(`${f.method}: backbone ${f.backboneChanges ? "changes" : "stays bit-identical"}, head changes`, async () => {
      const p = backbone();
      const original = snapshot(p);
      const trainer = buildTrainer(runConfig(f.method), vit, p);
      const varsBefore = snapshot(trainer.args.tunable.vars);
      for (let i = 0; i < 4; i++) {
        const r = await step(trainer, i);
        assert.ok(Number.isFinite(r.loss) && r.gradNorm > 0, `step ${i}: ${JSON.stringify(r)}`);
      }
      const seen = snapshot(trainer.args.tunable.params());
      // The caller's tensors are never modified, whatever the method.
      for (const [k, v] of Object.entries(snapshot(p))) assert.ok(sameBits(v, original[k]), `input tensor ${k} was modified`);
      const changed = BACKBONE_NAMES.filter((n) => !sameBits(seen[n], original[n]));
      if (f.backboneChanges) assert.ok(changed.length >= BACKBONE_NAMES.length - 2, `only ${changed.length} backbone tensors changed`);
      else assert.deepEqual(changed, [], "frozen backbone tensors changed");
      assert.ok(!sameBits(seen["head.weight"], original["head.weight"]), "head.weight did not change");
      assert.ok(!sameBits(seen["head.bias"], original["head.bias"]), "head.bias did not change");
      // Every trainable tensor moved (the B heads / LoRA b start at zero and leave it).
      const varsAfter = snapshot(trainer.args.tunable.vars);
      for (const k of Object.keys(varsBefore)) assert.ok(!sameBits(varsAfter[k], varsBefore[k]), `trainable ${k} did not change`);
      disposeTrainer(trainer);
      disposeParams(p);
    });
  }

  test("hyperat trains only hypernetwork + head; lora-at only LoRA factors + head", async () => {
    const p = backbone();
    const h = buildTrainer(runConfig("hyperat"), vit, p);
    const names = Object.keys(h.args.tunable.vars);
    assert.ok(names.every((n) => n.startsWith("hypernet.") || n === "head.weight" || n === "head.bias"), names.join(", "));
    assert.ok(names.includes("hypernet.head.qkv.B.weight") && names.includes("head.weight"));
    disposeTrainer(h);
    const l = buildTrainer(runConfig("lora-at"), vit, p);
    const paths = targetPaths(vit.depth, ["qkv", "fc1"]);
    assert.deepEqual(Object.keys(l.args.tunable.vars).sort(), ["head.bias", "head.weight", ...paths.flatMap((q) => [`lora.${q}.a`, `lora.${q}.b`])].sort());
    assert.deepEqual(l.args.defenses.map((d) => d.name), ["pgd-at"], "baselines train the first defense only");
    disposeTrainer(l);
    disposeParams(p);
  });

  test("LoRA norms: zero at init for every (defense, module), non-zero after training", async () => {
    const p = backbone();
    const trainer = buildTrainer(runConfig("hyperat"), vit, p);
    const n0 = (await trainer.loraNorms());
    // Named paths (the hypernetwork lists them module-major, plain LoRA block-major).
    assert.deepEqual([...n0.layers].sort(), targetPaths(vit.depth, ["qkv", "fc1"]).sort());
    assert.deepEqual(Object.keys(n0.norms), ["pgd-at", "trades", "mart"]);
    for (const v of Object.values(n0.norms)) assert.deepEqual(v, [0, 0, 0, 0]);
    for (let i = 0; i < 3; i++) await step(trainer, i);
    const n1 = (await trainer.loraNorms());
    for (const [d, v] of Object.entries(n1.norms)) assert.ok(v.every((x) => x > 0), `${d}: ${v}`);
    disposeTrainer(trainer);
    disposeParams(p);
  });

  test("hyperat: a step trains the sampled defense's LoRA (only its embedding row moves)", async () => {
    // No weight decay (it would shrink every row). Step 1 has B = 0, so no embedding gets a
    // gradient; from step 2 on, rows of defenses never sampled keep zero moments and stay put.
    const p = backbone();
    const trainer = buildTrainer(runConfig("hyperat", { optimizer: { lr: 0.01, warmupSteps: 0, weightDecay: 0 } }), vit, p);
    const emb = () => Array.from(trainer.args.tunable.vars["hypernet.emb.defense"].dataSync());
    const de = 4;
    const row = (v: number[], t: number) => v.slice(t * de, (t + 1) * de);
    const e0 = emb();
    const t1 = (await step(trainer, 0)).defenseIndex;
    assert.deepEqual(emb(), e0, "no embedding gradient while B = 0");
    const e1 = emb();
    const t2 = (await step(trainer, 1)).defenseIndex;
    const e2 = emb();
    for (let t = 0; t < 3; t++) {
      const moved = !sameBits(row(e2, t), row(e1, t));
      assert.equal(moved, t === t2, `defense ${t} row moved=${moved} (sampled ${t1} then ${t2})`);
    }
    disposeTrainer(trainer);
    disposeParams(p);
  });

  test("the task sampler draws defenses in proportion to their weights", async () => {
    // The trainer samples with Rng.categorical on its own seeded stream; check the sampler over
    // many draws, then that the trainer's choices follow that stream with the configured weights.
    const weights = [1, 3];
    const rng = Rng.fromSeed(42, "freq");
    const counts = [0, 0];
    const N = 4000;
    for (let i = 0; i < N; i++) counts[rng.categorical(weights)] += 1;
    // 0.25 ± 4σ, σ = sqrt(0.25·0.75/4000) ≈ 0.0068
    assert.ok(Math.abs(counts[0] / N - 0.25) < 0.028, `share of weight-1 task ${counts[0] / N}`);
    const three = [0, 0, 0];
    for (let i = 0; i < N; i++) three[rng.categorical([2, 1, 1])] += 1;
    assert.ok(Math.abs(three[0] / N - 0.5) < 0.032 && Math.abs(three[2] / N - 0.25) < 0.028, `shares ${three.map((c) => c / N)}`);
  });

  test("trainer steps sample defenses with the configured weights", async () => {
    const p = backbone();
    const cfg = runConfig("hyperat", { defenses: [{ name: "pgd-at", weight: 1 }, { name: "mart", weight: 4 }] });
    const trainer = buildTrainer(cfg, vit, p);
    const seq: number[] = [];
    const { x, y } = batch(0);
    const N = 16;
    for (let i = 0; i < N; i++) seq.push((await trainer.trainStep(x, y)).defenseIndex);
    tf.dispose([x, y]);
    const counts = [0, 1].map((k) => seq.filter((t) => t === k).length);
    assert.deepEqual(trainer.sampledCounts, counts);
    // Few (slow) steps: a coarse check, σ = sqrt(0.8·0.2/16) = 0.1; the sequence check below
    // ties the trainer to the sampler whose frequencies the previous test checks over 4000 draws.
    assert.ok(Math.abs(counts[1] / N - 0.8) < 0.3, `mart share ${counts[1] / N}`);
    // And exactly the categorical draws of one seeded stream (so the frequency test above applies).
    const ref = Rng.fromSeed(cfg.seed, "task-sampling");
    assert.deepEqual(seq, seq.map(() => ref.categorical([1, 4])));
    disposeTrainer(trainer);
    disposeParams(p);
  });

  const resumeCases: Array<{ method: Method; total: number; split: number }> = [
    { method: "hyperat", total: 6, split: 3 },
    { method: "lora-at", total: 4, split: 1 },
    { method: "full-at", total: 3, split: 2 },
  ];
  for (const rc of resumeCases) {
    test(`${rc.method}: checkpoint/resume follows the uninterrupted trajectory bit-exactly`, async () => {
      const p = backbone();
      const cfg = runConfig(rc.method);
      const straight = buildTrainer(cfg, vit, p);
      const want = await steps(straight, 0, rc.total);

      const first = buildTrainer(cfg, vit, p);
      const got = await steps(first, 0, rc.split);
      // A checkpoint is a copy: state() hands out live variables.
      const { json, tensors } = first.state();
      const saved = JSON.parse(JSON.stringify(json));
      const copies = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.clone()]));
      for (let i = rc.split; i < rc.total; i++) await step(first, i); // keeps going: must not affect the copy
      disposeTrainer(first);

      // A fresh trainer from a different seed (other init, other streams) restored from the copy.
      const resumed = buildTrainer({ ...cfg, seed: 99 }, vit, p);
      resumed.restore(saved, copies);
      tf.dispose(Object.values(copies));
      assert.equal(resumed.step, rc.split);
      got.push(...(await steps(resumed, rc.split, rc.total)));

      assert.deepEqual(got, want);
      assert.deepEqual(resumed.sampledCounts, straight.sampledCounts);
      const a = snapshot(resumed.args.tunable.vars);
      const b = snapshot(straight.args.tunable.vars);
      for (const k of Object.keys(b)) assert.ok(sameBits(a[k], b[k]), `${k} differs after resume`);
      const sa = resumed.state().json;
      const sb = straight.state().json;
      assert.deepEqual(sa, sb);
      disposeTrainer(straight);
      disposeTrainer(resumed);
      disposeParams(p);
    });
  }

  test("restore names a missing or mis-shaped tensor", async () => {
    const p = backbone();
    const trainer = buildTrainer(runConfig("lora-at"), vit, p);
    const { json, tensors } = trainer.state();
    const { ["param.head.bias"]: _gone, ...missing } = tensors;
    assert.throws(() => trainer.restore(json, missing), /checkpoint: missing tensor "param\.head\.bias"/);
    const bad = tf.zeros([5]);
    assert.throws(() => trainer.restore(json, { ...tensors, "param.head.bias": bad }), /tensor "param\.head\.bias" has shape \[5\], expected \[3\]/);
    bad.dispose();
    disposeTrainer(trainer);
    disposeParams(p);
  });

  const nonFinite: Array<{ name: string; poison: (p: ParamMap, x: tf.Tensor4D) => tf.Tensor4D }> = [
    {
      name: "NaN in the input",
      poison: (_p, x) => tf.tidy(() => tf.where(tf.equal(tf.range(0, x.size).reshape(x.shape), 5), tf.fill(x.shape, NaN), x) as tf.Tensor4D),
    },
    {
      name: "Infinity in a backbone weight",
      poison: (p, x) => {
        p["norm.weight"].dispose();
        p["norm.weight"] = tf.fill([vit.dim], Infinity);
        return x.clone();
      },
    },
  ];
  for (const nf of nonFinite) {
    test(`NonFiniteLossError on a non-finite loss (${nf.name}); nothing is updated or leaked`, async () => {
      const p = backbone();
      const trainer = buildTrainer(runConfig("hyperat"), vit, p);
      const { x: clean, y } = batch(0);
      const x = nf.poison(p, clean);
      const varsBefore = snapshot(trainer.args.tunable.vars);
      const before = tf.memory().numTensors;
      await assert.rejects(
        () => trainer.trainStep(x, y),
        (e: unknown) => e instanceof NonFiniteLossError && e.step === 0 && ["pgd-at", "trades", "mart"].includes(e.defense ?? "") && /loss is not finite at step 0/.test(e.message),
      );
      assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
      assert.equal(trainer.step, 0);
      const varsAfter = snapshot(trainer.args.tunable.vars);
      for (const k of Object.keys(varsBefore)) assert.ok(sameBits(varsAfter[k], varsBefore[k]), `${k} was updated`);
      tf.dispose([clean, x, y]);
      disposeTrainer(trainer);
      disposeParams(p);
    });
  }

  for (const method of ["hyperat", "lora-at", "full-at"] as const) {
    test(`${method}: no tensor leaks across steps, norms and state()`, async () => {
      const p = backbone();
      const trainer = buildTrainer(runConfig(method), vit, p);
      const { x, y } = batch(0);
      await trainer.trainStep(x, y); // first step may create lazily cached constants
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await trainer.trainStep(x, y);
      (await trainer.loraNorms());
      trainer.state();
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, y]);
      disposeTrainer(trainer);
      disposeParams(p);
    });
  }

  test("step results: counter, defense name, learning-rate schedule and accuracies in [0, 1]", async () => {
    const p = backbone();
    const trainer = buildTrainer(runConfig("hyperat", { optimizer: { lr: 0.01, warmupSteps: 2, minLrRatio: 0 } }), vit, p);
    const rs = [await step(trainer, 0), await step(trainer, 1), await step(trainer, 2)];
    assert.deepEqual(rs.map((r) => r.step), [1, 2, 3]);
    assert.deepEqual(rs.map((r) => r.lr), [0.005, 0.01, 0.01]);
    for (const r of rs) {
      assert.equal(r.defense, trainer.args.defenses[r.defenseIndex].name);
      assert.ok(r.cleanAcc >= 0 && r.cleanAcc <= 1 && r.advAcc >= 0 && r.advAcc <= 1);
      assert.ok(Number.isInteger(r.cleanAcc * BATCH) && Number.isInteger(r.advAcc * BATCH));
    }
    disposeTrainer(trainer);
    disposeParams(p);
  });

  test("accuracy counts argmax hits", async () => {
    const [logits, labels] = [tf.tensor2d([[1, 2], [3, 0], [0, 1], [5, 5.5]]), tf.tensor1d([1, 0, 0, 0], "int32")];
    assert.equal(await accuracy(logits, labels), 0.5);
    tf.dispose([logits, labels]);
  });
});
