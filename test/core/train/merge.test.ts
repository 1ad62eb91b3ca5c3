import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { adapterDeltas, adaptiveMerge, applyDeltas, blockOf, combineDeltas, Deltas, uniformLambdas } from "../../../src/core/train/merge";
import { moduleDims, ModuleType, disposeParams } from "../../../src/core/model/params";
import { LoraSet, targetPaths } from "../../../src/core/model/lora";
import { forward } from "../../../src/core/model/vit";
import { Rng } from "../../../src/core/rng";
import { tinyConfig, randomParams, randomImages, randomLabels, maxAbsDiff } from "../model/tinyVit";

const vit = tinyConfig();
const TARGETS: ModuleType[] = ["qkv", "proj", "fc2"];
const K = 3;

function randomAdapter(seed: number): LoraSet {
  const rng = Rng.fromSeed(seed, "test-adapter");
  const r = 2;
  const factors: LoraSet["factors"] = {};
  for (const path of targetPaths(vit.depth, TARGETS)) {
    const [din, dout] = moduleDims(vit, path.split(".").pop() as ModuleType);
    factors[path] = { a: tf.tensor2d(rng.fillNormal(din * r, 0.5), [din, r]), b: tf.tensor2d(rng.fillNormal(r * dout, 0.5), [r, dout]) };
  }
  return { scale: 2, factors };
}

const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const disposeDeltas = (ds: Deltas[]) => ds.forEach((d) => tf.dispose(Object.values(d)));

describe("merging defense-specific LoRAs", () => {
  let perDefense: Deltas[];
  before(async () => {
    await selectTestBackend();
    perDefense = [1, 2, 3].map((s) => {
      const lora = randomAdapter(s);
      const d = adapterDeltas(lora);
      Object.values(lora.factors).forEach((f) => tf.dispose([f.a, f.b]));
      return d;
    });
  });

  test("blockOf parses module paths and rejects others", async () => {
    assert.equal(blockOf("blocks.0.attn.qkv"), 0);
    assert.equal(blockOf("blocks.11.mlp.fc2"), 11);
    for (const bad of ["head", "block.1.attn.qkv", "blocks.x.attn", "xblocks.1.attn.qkv"]) {
      assert.throws(() => blockOf(bad), new RegExp(`not a block module path: "${bad.replace(/\./g, "\\.")}"`));
    }
  });

  test("adapterDeltas materializes scale · a · b per module", async () => {
    const lora = randomAdapter(1);
    const d = adapterDeltas(lora);
    assert.deepEqual(Object.keys(d), targetPaths(vit.depth, TARGETS));
    const f = lora.factors["blocks.1.attn.proj"];
    const want = tf.tidy(() => tf.mul(tf.matMul(f.a, f.b), 2));
    assert.deepEqual(arr(d["blocks.1.attn.proj"]), arr(want));
    assert.deepEqual(d["blocks.0.attn.qkv"].shape, moduleDims(vit, "qkv"));
    want.dispose();
    disposeDeltas([d]);
    Object.values(lora.factors).forEach((x) => tf.dispose([x.a, x.b]));
  });

  test("uniformLambdas is 1/K everywhere, [K][L]", async () => {
    assert.deepEqual(uniformLambdas(4, 2), [[0.25, 0.25], [0.25, 0.25], [0.25, 0.25], [0.25, 0.25]]);
  });

  test("uniform merge equals the mean of the ΔW_t (products, not factors)", async () => {
    const merged = tf.tidy(() => combineDeltas(perDefense, uniformLambdas(K, vit.depth)));
    for (const p of Object.keys(perDefense[0])) {
      const ts = perDefense.map((d) => d[p].dataSync());
      const mean = Array.from(ts[0], (_, i) => (ts[0][i] + ts[1][i] + ts[2][i]) / 3);
      const diff = maxAbsDiff(arr(merged[p]), mean);
      assert.ok(diff < 1e-6, `${p}: ${diff}`);
    }
    tf.dispose(Object.values(merged));
  });

  test("combineDeltas with a λ tensor of 1/K equals uniform; per-(defense, block) λ weights by hand", async () => {
    const viaNumbers = tf.tidy(() => combineDeltas(perDefense, uniformLambdas(K, vit.depth)));
    const viaTensor = tf.tidy(() => combineDeltas(perDefense, tf.fill([K, vit.depth], 1 / K) as tf.Tensor2D));
    for (const p of Object.keys(viaNumbers)) assert.ok(maxAbsDiff(arr(viaTensor[p]), arr(viaNumbers[p])) < 1e-7, p);
    // λ = [[1, 0], [0, 2], [0.5, 0]]: block 0 = ΔW_0 + 0.5·ΔW_2, block 1 = 2·ΔW_1.
    const lam = [[1, 0], [0, 2], [0.5, 0]];
    for (const form of ["tensor", "numbers"]) {
      const m = tf.tidy(() => combineDeltas(perDefense, form === "tensor" ? tf.tensor2d(lam) : lam));
      for (const p of Object.keys(m)) {
        const l = blockOf(p);
        const ts = perDefense.map((d) => d[p].dataSync());
        const want = Array.from(ts[0], (_, i) => lam[0][l] * ts[0][i] + lam[1][l] * ts[1][i] + lam[2][l] * ts[2][i]);
        assert.ok(maxAbsDiff(arr(m[p]), want) < 1e-5, `${p} (λ as ${form})`);
      }
      tf.dispose(Object.values(m));
    }
    tf.dispose([...Object.values(viaNumbers), ...Object.values(viaTensor)]);
  });

  test("applyDeltas adds ΔW to the named weights only and leaves the input map untouched", async () => {
    const params = randomParams(vit, 2);
    const before = arr(params["blocks.0.attn.qkv.weight"]);
    const out = applyDeltas(params, perDefense[0]);
    const want = before.map((v, i) => v + perDefense[0]["blocks.0.attn.qkv"].dataSync()[i]);
    assert.ok(maxAbsDiff(arr(out["blocks.0.attn.qkv.weight"]), want) < 1e-6);
    assert.deepEqual(arr(params["blocks.0.attn.qkv.weight"]), before);
    assert.equal(out["blocks.0.mlp.fc1.weight"], params["blocks.0.mlp.fc1.weight"], "untargeted modules are shared, not copied");
    for (const p of Object.keys(perDefense[0])) out[`${p}.weight`].dispose();
    disposeParams(params);
  });

  const objectives = ["adversarial-ce", "entropy"] as const;
  for (const objective of objectives) for (const lambdas of ["simplex", "free"] as const) {
    test(`adaptiveMerge (${objective}, ${lambdas}): λ is [K][L], finite, ≈ 1/K with a tiny lr and moves with a real one`, async () => {
      const params = randomParams(vit, 3);
      const x = randomImages(vit, 6, 11);
      const y = randomLabels(6, vit.numClasses, 12);
      const common = { vit, params, perDefense, x, y, objective, lambdas, steps: 2, batchSize: 4, attack: { eps: 8 / 255, stepSize: 4 / 255, steps: 1 }, seed: 1 };
      const seen: Array<[number, number]> = [];
      const before = tf.memory().numTensors;
      const tiny = await adaptiveMerge({ ...common, lr: 1e-7, onStep: (s, l) => seen.push([s, l]) });
      assert.equal(tf.memory().numTensors, before, "adaptiveMerge leaked tensors");
      assert.equal(tiny.length, K);
      for (const row of tiny) {
        assert.equal(row.length, vit.depth);
        for (const v of row) assert.ok(Number.isFinite(v) && Math.abs(v - 1 / K) < 1e-5, `λ = ${v}`);
      }
      assert.deepEqual(seen.map(([s]) => s), [1, 2]);
      assert.ok(seen.every(([, l]) => Number.isFinite(l) && l >= 0), `losses ${seen}`);
      const moved = await adaptiveMerge({ ...common, lr: lambdas === "simplex" ? 0.2 : 0.05 });
      assert.ok(moved.flat().some((v) => Math.abs(v - 1 / K) > 0.01), `λ did not move: ${moved}`);
      assert.ok(moved.flat().every(Number.isFinite));
      if (lambdas === "simplex") {
        // Per block a convex combination: positive, summing to 1 over the defenses.
        for (let l = 0; l < vit.depth; l++) {
          const column = moved.map((row) => row[l]);
          assert.ok(column.every((v) => v > 0), `block ${l}: λ ${column}`);
          assert.ok(Math.abs(column.reduce((a, b) => a + b, 0) - 1) < 1e-6, `block ${l}: Σλ = ${column.reduce((a, b) => a + b, 0)}`);
        }
      }
      // Same seed, same data, same λ (deterministic, also the PGD random start).
      assert.deepEqual(await adaptiveMerge({ ...common, lr: lambdas === "simplex" ? 0.2 : 0.05 }), moved);
      tf.dispose([x, y]);
      disposeParams(params);
    });
  }

  test("the uniformly merged plain ViT equals the LoRA forward with averaged ΔW", async () => {
    // Merging ΔW into W0 and running LoRA-free must equal adding the mean ΔW inside the forward.
    const params = randomParams(vit, 4);
    const x = randomImages(vit, 2, 13);
    const merged = tf.tidy(() => combineDeltas(perDefense, uniformLambdas(K, vit.depth)));
    const plain = applyDeltas(params, merged);
    const a = tf.tidy(() => arr(forward(vit, plain, x)));
    // The same ΔW as a rank-d_in "LoRA": a = I, b = ΔW, scale 1.
    const b = tf.tidy(() => {
      const factors = Object.fromEntries(Object.entries(merged).map(([p, d]) => [p, { a: tf.eye(d.shape[0]) as tf.Tensor2D, b: d }]));
      return arr(forward(vit, params, x, { lora: { scale: 1, factors } }));
    });
    assert.ok(maxAbsDiff(a, b) < 1e-5, `${maxAbsDiff(a, b)}`);
    for (const p of Object.keys(merged)) plain[`${p}.weight`].dispose();
    tf.dispose([x, ...Object.values(merged)]);
    disposeParams(params);
  });
});
