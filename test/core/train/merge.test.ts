import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { adapterDeltas, blockOf, Deltas, foldDeltas, mergeWeights, uniformLambdas } from "../../../src/core/train/merge";
import { moduleDims, ModuleType, disposeParams } from "../../../src/core/model/params";
import { targetPaths } from "../../../src/core/model/lora";
import { forward } from "../../../src/core/model/vit";
import { tinyConfig, randomParams, randomImages, maxAbsDiff } from "../model/tinyVit";
import { randomAdapter as randomAdapterOn, randomDeltas } from "./randomDeltas";

const vit = tinyConfig();
const TARGETS: ModuleType[] = ["qkv", "proj", "fc2"];
const K = 3;

const randomAdapter = (seed: number) => randomAdapterOn(vit, TARGETS, seed);

const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const disposeDeltas = (ds: Deltas[]) => ds.forEach((d) => tf.dispose(Object.values(d)));

describe("merging defense-specific LoRAs", () => {
  let perDefense: Deltas[];
  before(async () => {
    await selectTestBackend();
    perDefense = randomDeltas(vit, TARGETS, [1, 2, 3]);
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

  test("foldDeltas: uniform λ is the mean of the products; λ as a [K, L] tensor (the tape form) equals λ as numbers", async () => {
    const params = randomParams(vit, 2);
    const mean = foldDeltas(params, perDefense, uniformLambdas(K, vit.depth));
    // λ = [[1, 0], [0, 2], [0.5, 0]]: block 0 = W0 + ΔW_0 + 0.5·ΔW_2, block 1 = W0 + 2·ΔW_1.
    const lam = [[1, 0], [0, 2], [0.5, 0]];
    const viaNumbers = foldDeltas(params, perDefense, lam);
    const lamTensor = tf.tensor2d(lam);
    const viaTensor = foldDeltas(params, perDefense, lamTensor);
    for (const p of Object.keys(perDefense[0])) {
      const w0 = arr(params[`${p}.weight`]);
      const ts = perDefense.map((d) => d[p].dataSync());
      const wantMean = w0.map((w, i) => w + (ts[0][i] + ts[1][i] + ts[2][i]) / 3);
      assert.ok(maxAbsDiff(arr(mean[`${p}.weight`]), wantMean) < 1e-5, `${p}: mean`);
      const l = blockOf(p);
      const want = w0.map((w, i) => w + lam[0][l] * ts[0][i] + lam[1][l] * ts[1][i] + lam[2][l] * ts[2][i]);
      assert.ok(maxAbsDiff(arr(viaNumbers[`${p}.weight`]), want) < 1e-5, `${p}: λ as numbers`);
      assert.deepEqual(arr(viaTensor[`${p}.weight`]), arr(viaNumbers[`${p}.weight`]), `${p}: λ as a tensor`);
    }
    assert.equal(mean["blocks.0.mlp.fc1.weight"], params["blocks.0.mlp.fc1.weight"], "untargeted modules are shared, not copied");
    for (const m of [mean, viaNumbers, viaTensor]) for (const p of Object.keys(perDefense[0])) m[`${p}.weight`].dispose();
    lamTensor.dispose();
    disposeParams(params);
  });

  test("mergeWeights computes W0 + Σ_t λ_t[l] ΔW_t, keyed by defense name (by hand)", async () => {
    const params = {
      "blocks.0.attn.qkv.weight": tf.tensor2d([[1, 2], [3, 4]]),
      "blocks.1.attn.qkv.weight": tf.tensor2d([[0, 0], [0, 10]]),
      "head.weight": tf.tensor2d([[7]]),
    };
    const adapters = {
      trades: { "blocks.0.attn.qkv": tf.tensor2d([[1, 0], [0, 1]]), "blocks.1.attn.qkv": tf.tensor2d([[2, 2], [2, 2]]) },
      mart: { "blocks.0.attn.qkv": tf.tensor2d([[0, 4], [-4, 0]]), "blocks.1.attn.qkv": tf.tensor2d([[1, -1], [0, 0]]) },
    };
    const before = tf.memory().numTensors;
    // Listed in another order than the adapters: λ is matched by name, not position.
    const merged = await mergeWeights(params, adapters, { mart: [0.25, 2], trades: [0.5, 1] });
    // Block 0: W0 + 0.5·[[1,0],[0,1]] + 0.25·[[0,4],[-4,0]] = [[1.5, 3], [2, 4.5]].
    assert.deepEqual(arr(merged["blocks.0.attn.qkv.weight"]), [1.5, 3, 2, 4.5]);
    // Block 1: W0 + 1·[[2,2],[2,2]] + 2·[[1,-1],[0,0]] = [[4, 0], [2, 12]].
    assert.deepEqual(arr(merged["blocks.1.attn.qkv.weight"]), [4, 0, 2, 12]);
    assert.equal(merged["head.weight"], params["head.weight"]);
    assert.deepEqual(arr(params["blocks.0.attn.qkv.weight"]), [1, 2, 3, 4], "the input weights are untouched (a merge is reversible)");
    assert.equal(tf.memory().numTensors - before, 2, "one new tensor per adapted weight, no temporaries");
    tf.dispose([merged["blocks.0.attn.qkv.weight"], merged["blocks.1.attn.qkv.weight"], ...Object.values(params), ...Object.values(adapters).flatMap((d) => Object.values(d))]);
  });

  /** A two-block map with a qkv weight per block, and adapters built from `delta(name, path)`. */
  function smallCase(delta: (defense: string, path: string) => tf.Tensor2D) {
    const params = { "blocks.0.attn.qkv.weight": tf.ones([2, 3]) as tf.Tensor2D, "blocks.1.attn.qkv.weight": tf.ones([2, 3]) as tf.Tensor2D };
    const paths = ["blocks.0.attn.qkv", "blocks.1.attn.qkv"];
    const adapters = Object.fromEntries(["pgd-at", "trades"].map((n) => [n, Object.fromEntries(paths.map((p) => [p, delta(n, p)]))]));
    const dispose = () => tf.dispose([...Object.values(params), ...Object.values(adapters).flatMap((d) => Object.values(d))]);
    return { params, adapters, dispose };
  }
  const lambdasOf = (v: number) => ({ "pgd-at": [v, v], trades: [v, v] });

  test("mergeWeights rejects a ΔW whose shape is not its weight's, naming the defense, the tensor and both shapes", async () => {
    const c = smallCase((n, p) => (n === "trades" && p === "blocks.1.attn.qkv" ? tf.zeros([3, 2]) : tf.zeros([2, 3])) as tf.Tensor2D);
    const before = tf.memory().numTensors;
    await assert.rejects(mergeWeights(c.params, c.adapters, lambdasOf(0.5)), /^Error: defense "trades": ΔW "blocks\.1\.attn\.qkv" has shape \[3,2\], weight "blocks\.1\.attn\.qkv\.weight" has \[2,3\]$/);
    assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
    c.dispose();
  });

  for (const bad of [NaN, Infinity, -Infinity]) {
    test(`mergeWeights rejects a ΔW with ${bad}, naming the defense, the tensor and its shape, and frees what it made`, async () => {
      const c = smallCase((n, p) => (n === "pgd-at" && p === "blocks.1.attn.qkv" ? tf.tensor2d([[0, 0, bad], [0, 0, 0]]) : tf.zeros([2, 3])) as tf.Tensor2D);
      const before = tf.memory().numTensors;
      await assert.rejects(mergeWeights(c.params, c.adapters, lambdasOf(0.5)), /^Error: defense "pgd-at": ΔW "blocks\.1\.attn\.qkv" \[2,3\] is not finite; the adapter diverged/);
      assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
      c.dispose();
    });
  }

  test("mergeWeights rejects a merged weight that overflows (finite ΔW, large free λ) and frees every merged weight", async () => {
    const c = smallCase((n, p) => (p === "blocks.1.attn.qkv" ? tf.fill([2, 3], 3e38) : tf.zeros([2, 3])) as tf.Tensor2D);
    const before = tf.memory().numTensors;
    await assert.rejects(
      mergeWeights(c.params, c.adapters, lambdasOf(2)),
      /^Error: merge of defenses "pgd-at", "trades": merged weight "blocks\.1\.attn\.qkv\.weight" \[2,3\] is not finite \(λ at block 1: 2, 2\)$/,
    );
    assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
    c.dispose();
  });

  test("mergeWeights names a missing weight, adapters that adapt different modules, and a missing, short or non-finite λ", async () => {
    const c = smallCase(() => tf.zeros([2, 3]) as tf.Tensor2D);
    const extra = tf.zeros([2, 3]) as tf.Tensor2D;
    await assert.rejects(mergeWeights(c.params, { ...c.adapters, mart: { "blocks.9.attn.qkv": extra } }, lambdasOf(1)), /^Error: defense "mart": adapts modules \[blocks\.9\.attn\.qkv\], defense "pgd-at" adapts \[blocks\.0\.attn\.qkv, blocks\.1\.attn\.qkv\]/);
    await assert.rejects(mergeWeights(c.params, { mart: { "blocks.9.attn.qkv": extra } }, { mart: [1] }), /^Error: defense "mart": no weight "blocks\.9\.attn\.qkv\.weight" in the model to merge ΔW "blocks\.9\.attn\.qkv" \[2,3\] into$/);
    await assert.rejects(mergeWeights(c.params, c.adapters, { "pgd-at": [1, 1] }), /^Error: merge: no λ for defense "trades" \(λ given for "pgd-at"\)$/);
    await assert.rejects(mergeWeights(c.params, c.adapters, { "pgd-at": [1, 1], trades: [1] }), /^Error: merge: λ of defense "trades" has 1 values, its adapter reaches block 1$/);
    await assert.rejects(mergeWeights(c.params, c.adapters, { "pgd-at": [1, NaN], trades: [1, 1] }), /^Error: merge: λ of defense "pgd-at" at block 1 is NaN$/);
    await assert.rejects(mergeWeights(c.params, {}, {}), /^Error: merge: no defense adapters to merge$/);
    extra.dispose();
    c.dispose();
  });

  test("the uniformly merged plain ViT equals the LoRA forward with averaged ΔW", async () => {
    // Merging ΔW into W0 and running LoRA-free must equal adding the mean ΔW inside the forward.
    const params = randomParams(vit, 4);
    const x = randomImages(vit, 2, 13);
    const adapters = Object.fromEntries(perDefense.map((d, t) => [`defense-${t}`, d]));
    const plain = await mergeWeights(params, adapters, Object.fromEntries(Object.keys(adapters).map((n) => [n, new Array<number>(vit.depth).fill(1 / K)])));
    const a = tf.tidy(() => arr(forward(vit, plain, x)));
    // The mean ΔW as a rank-d_in "LoRA": a = I, b = mean ΔW, scale 1.
    const b = tf.tidy(() => {
      const factors = Object.fromEntries(Object.keys(perDefense[0]).map((p) => [p, { a: tf.eye(perDefense[0][p].shape[0]) as tf.Tensor2D, b: tf.div(tf.addN(perDefense.map((d) => d[p])), K) as tf.Tensor2D }]));
      return arr(forward(vit, params, x, { lora: { scale: 1, factors } }));
    });
    assert.ok(maxAbsDiff(a, b) < 1e-5, `${maxAbsDiff(a, b)}`);
    for (const p of Object.keys(perDefense[0])) plain[`${p}.weight`].dispose();
    x.dispose();
    disposeParams(params);
  });
});
