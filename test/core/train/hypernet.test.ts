import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { Hypernetwork, HypernetArgs } from "../../../src/core/model/hypernet";
import { moduleDims, ModuleType, MODULE_TYPES, disposeParams } from "../../../src/core/model/params";
import { deltaW, targetPaths } from "../../../src/core/model/lora";
import { forward } from "../../../src/core/model/vit";
import { Rng } from "../../../src/core/rng";
import { tinyConfig, randomParams, randomImages, maxAbsDiff } from "../model/tinyVit";

const ARGS: HypernetArgs = { numDefenses: 3, targets: MODULE_TYPES, rank: 2, alpha: 4, embedDim: 4, hiddenDim: 6, latentDim: 5 };

/** Sets every B head to small seeded values so that ΔW ≠ 0 and every gradient path is open. */
function openBHeads(h: Hypernetwork, seed = 1): void {
  const rng = Rng.fromSeed(seed, "test-b-heads");
  for (const [name, v] of Object.entries(h.vars)) {
    if (/^head\.\w+\.B\./.test(name)) v.assign(tf.tensor(rng.fillNormal(v.size, 0.1), v.shape));
  }
}

describe("Hypernetwork", () => {
  before(async () => {
    await selectTestBackend();
  });

  // One defense, one block or one target module are legal configs (tf.oneHot rejects depth 1).
  const shapeCases: Array<{ name: string; targets: readonly ModuleType[]; depth: number; K: number }> = [
    { name: "all modules, 2 blocks, 3 defenses", targets: MODULE_TYPES, depth: 2, K: 3 },
    { name: "fc1 + qkv, 3 blocks, 2 defenses", targets: ["fc1", "qkv"], depth: 3, K: 2 },
    { name: "proj only, 1 block, 1 defense", targets: ["proj"], depth: 1, K: 1 },
  ];
  for (const sc of shapeCases) {
    test(`factor shapes a [d_in, r], b [r, d_out] for every (layer, module): ${sc.name}`, () => {
      const c = tinyConfig({ depth: sc.depth });
      const h = new Hypernetwork(c, { ...ARGS, targets: sc.targets, numDefenses: sc.K }, 1);
      tf.tidy(() => {
        const lora = h.generate(sc.K - 1);
        assert.equal(lora.scale, ARGS.alpha / ARGS.rank);
        assert.deepEqual(Object.keys(lora.factors).sort(), targetPaths(sc.depth, sc.targets).sort());
        for (let l = 0; l < sc.depth; l++) {
          for (const m of sc.targets) {
            const [din, dout] = moduleDims(c, m);
            const f = lora.factors[targetPaths(sc.depth, [m])[l]];
            assert.deepEqual(f.a.shape, [din, ARGS.rank], `a of ${m} in block ${l}`);
            assert.deepEqual(f.b.shape, [ARGS.rank, dout], `b of ${m} in block ${l}`);
          }
        }
      });
      h.dispose();
    });
  }

  test("ΔW = 0 at init for every defense and module, and the model equals the base model", () => {
    const c = tinyConfig();
    const h = new Hypernetwork(c, ARGS, 2);
    const p = randomParams(c, 3);
    const x = randomImages(c, 2);
    const base = tf.tidy(() => Array.from(forward(c, p, x).dataSync()));
    for (let t = 0; t < ARGS.numDefenses; t++) {
      tf.tidy(() => {
        const lora = h.generate(t);
        for (const [path, f] of Object.entries(lora.factors)) {
          assert.equal(tf.max(tf.abs(deltaW(f, lora.scale))).dataSync()[0], 0, `defense ${t}, ${path}`);
          assert.ok(tf.norm(f.a).dataSync()[0] > 0, `A of ${path} must be non-zero so that B gets gradients`);
        }
        assert.deepEqual(Array.from(forward(c, p, x, { lora }).dataSync()), base);
      });
    }
    x.dispose();
    disposeParams(p);
    h.dispose();
  });

  test("different defenses (and layers) get different A; the same seed gives the same network", () => {
    const c = tinyConfig();
    const h = new Hypernetwork(c, ARGS, 4);
    const twin = new Hypernetwork(c, ARGS, 4);
    tf.tidy(() => {
      const a = [0, 1, 2].map((t) => h.generate(t).factors["blocks.1.mlp.fc1"].a.dataSync());
      assert.ok(maxAbsDiff(a[0], a[1]) > 1e-3 && maxAbsDiff(a[1], a[2]) > 1e-3 && maxAbsDiff(a[0], a[2]) > 1e-3);
      const l0 = h.generate(0).factors["blocks.0.mlp.fc1"].a.dataSync();
      assert.ok(maxAbsDiff(l0, a[0]) > 1e-3, "layers share A");
      assert.deepEqual(twin.generate(2).factors["blocks.1.mlp.fc1"].a.dataSync(), a[2]);
    });
    h.dispose();
    twin.dispose();
  });

  test("numParams equals the sum of variable sizes and the architecture's formula", () => {
    const c = tinyConfig({ depth: 3 });
    const targets: ModuleType[] = ["qkv", "fc2"];
    const h = new Hypernetwork(c, { ...ARGS, targets }, 1);
    const { numDefenses: K, embedDim: de, hiddenDim: dh, latentDim: dz, rank: r } = ARGS;
    let heads = 0;
    for (const m of targets) {
      const [din, dout] = moduleDims(c, m);
      heads += dz * din * r + din * r + dz * r * dout + r * dout;
    }
    const formula = (K + c.depth + targets.length) * de + 3 * de * dh + dh + dh * dz + dz + 2 * dz + heads;
    assert.equal(h.numParams(), Object.values(h.vars).reduce((a, v) => a + v.size, 0));
    assert.equal(h.numParams(), formula);
    h.dispose();
  });

  test("gradients reach every hypernetwork variable once B ≠ 0", () => {
    const c = tinyConfig();
    const h = new Hypernetwork(c, ARGS, 5);
    openBHeads(h);
    const p = randomParams(c, 6);
    const x = randomImages(c, 3);
    const vars = Object.values(h.vars);
    const { value, grads } = tf.variableGrads(() => {
      // Two defenses in one loss so both their embedding rows get a gradient.
      const l0 = tf.sum(tf.square(forward(c, p, x, { lora: h.generate(0) })));
      const l2 = tf.sum(forward(c, p, x, { lora: h.generate(2) }));
      return tf.add(l0, l2) as tf.Scalar;
    }, vars);
    for (const [name, v] of Object.entries(h.vars)) {
      const g = grads[v.name];
      assert.ok(g, `no gradient for ${name}`);
      assert.ok(tf.tidy(() => tf.norm(g).dataSync()[0]) > 0, `zero gradient for ${name}`);
    }
    // The unused defense's embedding row gets nothing: selection is exact (one-hot matMul).
    const row1 = tf.tidy(() => tf.slice(grads[h.vars["emb.defense"].name], [1, 0], [1, -1]).abs().max().dataSync()[0]);
    assert.equal(row1, 0);
    tf.dispose([value, ...Object.values(grads), x]);
    disposeParams(p);
    h.dispose();
  });

  test("generate inside tidy does not leak tensors; dispose frees every variable", () => {
    const c = tinyConfig();
    const before = tf.memory().numTensors;
    const h = new Hypernetwork(c, ARGS, 7);
    assert.equal(tf.memory().numTensors, before + Object.keys(h.vars).length);
    // (Braces: tidy keeps tensors *returned* from it, and a LoraSet holds tensors.)
    tf.tidy(() => {
      h.generate(0);
    });
    const mid = tf.memory().numTensors;
    for (let t = 0; t < 3; t++) {
      tf.tidy(() => {
        h.generate(t);
      });
    }
    assert.equal(tf.memory().numTensors, mid);
    h.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
