import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { blockOf, DefenseAdapters, foldAdapters, mergeWeights, scaledDelta, uniformLambdas } from "../../../src/core/train/merge";
import { moduleDims, ModuleType, disposeParams } from "../../../src/core/model/params";
import { deltaW, disposeLora, LoraSet } from "../../../src/core/model/lora";
import { forward } from "../../../src/core/model/vit";
import { tinyConfig, randomParams, randomImages, maxAbsDiff } from "../model/tinyVit";
import { randomAdapter as randomAdapterOn, randomAdapters } from "./randomAdapters";

const vit = tinyConfig();
const TARGETS: ModuleType[] = ["qkv", "proj", "fc2"];
const K = 3;

const randomAdapter = (seed: number) => randomAdapterOn(vit, TARGETS, seed);

const arr = (t: tf.Tensor) => Array.from(t.dataSync());
/** The old merge's tape fold, the reference: every ΔW materialized, then W0 + Σ_t λ_tl·ΔW_t. */
function materializedFold(params: Record<string, tf.Tensor>, loras: LoraSet[], lam: tf.Tensor2D): Record<string, tf.Tensor> {
  const out = { ...params };
  for (const p of Object.keys(loras[0].factors)) {
    const terms = loras.map((l, t) => tf.mul(deltaW(l.factors[p], l.scale), tf.reshape(tf.slice(lam, [t, blockOf(p)], [1, 1]), [])));
    out[`${p}.weight`] = tf.add(params[`${p}.weight`], tf.addN(terms));
  }
  return out;
}

/** ΔW given outright, as factors a = ΔW, b = I, scale 1 (a·I is exact, so ΔW keeps its bits). */
function asAdapter(deltas: Record<string, tf.Tensor2D>): LoraSet {
  return { scale: 1, factors: Object.fromEntries(Object.entries(deltas).map(([p, d]) => [p, { a: d, b: tf.eye(d.shape[1]) as tf.Tensor2D }])) };
}

describe("merging defense-specific LoRAs", () => {
  let perDefense: LoraSet[];
  before(async () => {
    await selectTestBackend();
    perDefense = randomAdapters(vit, TARGETS, [1, 2, 3]);
  });

  test("blockOf parses module paths and rejects others", async () => {
    assert.equal(blockOf("blocks.0.attn.qkv"), 0);
    assert.equal(blockOf("blocks.11.mlp.fc2"), 11);
    for (const bad of ["head", "block.1.attn.qkv", "blocks.x.attn", "xblocks.1.attn.qkv"]) {
      assert.throws(() => blockOf(bad), new RegExp(`not a block module path: "${bad.replace(/\./g, "\\.")}"`));
    }
  });

  test("scaledDelta forms c · scale · a · b; c = 1 gives deltaW's bits", async () => {
    const lora = randomAdapter(1);
    const f = lora.factors["blocks.1.attn.proj"];
    const want = tf.tidy(() => tf.mul(tf.matMul(f.a, f.b), 2));
    const one = scaledDelta(f, 2, 1);
    const half = scaledDelta(f, 2, 0.5);
    assert.deepEqual(arr(one), arr(want));
    assert.deepEqual(arr(half), arr(want).map((v) => Math.fround(v * 0.5)));
    assert.deepEqual(scaledDelta(lora.factors["blocks.0.attn.qkv"], 2, 1).shape, moduleDims(vit, "qkv"));
    tf.dispose([want, one, half]);
    disposeLora(lora);
  });

  test("uniformLambdas is 1/K everywhere, [K][L]", async () => {
    assert.deepEqual(uniformLambdas(4, 2), [[0.25, 0.25], [0.25, 0.25], [0.25, 0.25], [0.25, 0.25]]);
  });

  test("foldAdapters from factors, by hand: λ as numbers and as a [K, L] tensor (the tape form) give W0 + Σ_t λ_tl·s·a_t·b_t", async () => {
    // Two blocks, K = 2, rank 1, scale 2: ΔW_t = 2·a_t·b_t; every value a small integer or half,
    // so both orders of the products are exact and equal the hand values.
    const params = { "blocks.0.attn.qkv.weight": tf.tensor2d([[1, 0], [0, 1]]), "blocks.1.attn.qkv.weight": tf.tensor2d([[0, 2], [2, 0]]) } as Record<string, tf.Tensor>;
    const f = (a: number[], b: number[]) => ({ a: tf.tensor2d(a, [2, 1]), b: tf.tensor2d(b, [1, 2]) });
    const loras: LoraSet[] = [
      { scale: 2, factors: { "blocks.0.attn.qkv": f([1, 2], [1, 0]), "blocks.1.attn.qkv": f([0, 1], [1, 1]) } },
      { scale: 2, factors: { "blocks.0.attn.qkv": f([1, -1], [0, 1]), "blocks.1.attn.qkv": f([2, 0], [1, -1]) } },
    ];
    const lam = [[0.5, 1], [1, 0.25]];
    // Block 0: I + 0.5·2·[[1,0],[2,0]] + 1·2·[[0,1],[0,-1]] = [[2, 2], [2, -1]].
    // Block 1: [[0,2],[2,0]] + 1·2·[[0,0],[1,1]] + 0.25·2·[[2,-2],[0,0]] = [[1, 1], [4, 2]].
    const want = { "blocks.0.attn.qkv.weight": [2, 2, 2, -1], "blocks.1.attn.qkv.weight": [1, 1, 4, 2] };
    const lamTensor = tf.tensor2d(lam);
    const before = tf.memory().numTensors;
    const viaNumbers = foldAdapters(params, loras, lam);
    const viaTensor = foldAdapters(params, loras, lamTensor);
    assert.equal(tf.memory().numTensors - before, 4, "one new tensor per adapted weight and λ form, no ΔW left");
    for (const [name, w] of Object.entries(want)) {
      assert.deepEqual(arr(viaNumbers[name]), w, `${name}: λ as numbers`);
      assert.deepEqual(arr(viaTensor[name]), w, `${name}: λ as a tensor`);
    }
    tf.dispose([...Object.keys(want).flatMap((n) => [viaNumbers[n], viaTensor[n]]), lamTensor, ...Object.values(params)]);
    loras.forEach(disposeLora);
  });

  test("foldAdapters on random factors: λ as numbers and as a tensor (the tape's op) give the materialized fold's bits", async () => {
    const params = randomParams(vit, 2);
    const lam = [[1, 0], [0, 2], [0.5, 0.3]];
    const lamTensor = tf.tensor2d(lam);
    const viaNumbers = foldAdapters(params, perDefense, lam);
    const viaTensor = foldAdapters(params, perDefense, lamTensor);
    const reference = tf.tidy(() => materializedFold(params, perDefense, lamTensor));
    const mean = foldAdapters(params, perDefense, uniformLambdas(K, vit.depth));
    for (const p of Object.keys(perDefense[0].factors)) {
      const name = `${p}.weight`;
      assert.deepEqual(arr(viaNumbers[name]), arr(reference[name]), `${name}: λ as numbers, same bits as the materialized fold`);
      assert.deepEqual(arr(viaTensor[name]), arr(reference[name]), `${name}: λ as a tensor, same bits`);
      const ts = perDefense.map((l) => tf.tidy(() => arr(deltaW(l.factors[p], l.scale))));
      const wantMean = arr(params[name]).map((w, i) => w + (ts[0][i] + ts[1][i] + ts[2][i]) / 3);
      assert.ok(maxAbsDiff(arr(mean[name]), wantMean) < 1e-5, `${name}: mean`);
    }
    assert.equal(mean["blocks.0.mlp.fc1.weight"], params["blocks.0.mlp.fc1.weight"], "untargeted modules are shared, not copied");
    for (const m of [mean, viaNumbers, viaTensor, reference]) for (const p of Object.keys(perDefense[0].factors)) m[`${p}.weight`].dispose();
    lamTensor.dispose();
    disposeParams(params);
  });

  test("the gradient of a forward loss wrt λ through the factor fold equals the materialized fold's", async () => {
    const params = randomParams(vit, 6);
    const x = randomImages(vit, 3, 17);
    const lam = tf.variable(tf.tensor2d([[0.4, 0.2], [0.3, 0.5], [0.3, 0.3]]));
    const loss = (fold: (l: tf.Tensor2D) => Record<string, tf.Tensor>) => () => tf.sum(tf.square(forward(vit, fold(lam), x))) as tf.Scalar;
    const before = tf.memory().numTensors;
    const viaFactors = tf.variableGrads(loss((l) => foldAdapters(params, perDefense, l)), [lam]);
    const viaDeltas = tf.variableGrads(loss((l) => materializedFold(params, perDefense, l)), [lam]);
    const g = arr(viaFactors.grads[lam.name]);
    const want = arr(viaDeltas.grads[lam.name]);
    const scale = Math.max(...want.map(Math.abs));
    assert.ok(scale > 1e-3, "the gradient must be non-zero for the comparison to mean anything");
    assert.ok(maxAbsDiff(g, want) <= 1e-5 * scale, `dλ ${g} vs ${want}`);
    tf.dispose([viaFactors.value, viaDeltas.value, viaFactors.grads[lam.name], viaDeltas.grads[lam.name]]);
    assert.equal(tf.memory().numTensors, before, "the λ gradient leaked tensors");
    tf.dispose([lam, x]);
    disposeParams(params);
  });

  test("mergeWeights computes W0 + Σ_t λ_t[l] ΔW_t, keyed by defense name (by hand)", async () => {
    const params = {
      "blocks.0.attn.qkv.weight": tf.tensor2d([[1, 2], [3, 4]]),
      "blocks.1.attn.qkv.weight": tf.tensor2d([[0, 0], [0, 10]]),
      "head.weight": tf.tensor2d([[7]]),
    };
    const adapters: DefenseAdapters = {
      trades: asAdapter({ "blocks.0.attn.qkv": tf.tensor2d([[1, 0], [0, 1]]), "blocks.1.attn.qkv": tf.tensor2d([[2, 2], [2, 2]]) }),
      mart: asAdapter({ "blocks.0.attn.qkv": tf.tensor2d([[0, 4], [-4, 0]]), "blocks.1.attn.qkv": tf.tensor2d([[1, -1], [0, 0]]) }),
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
    tf.dispose([merged["blocks.0.attn.qkv.weight"], merged["blocks.1.attn.qkv.weight"], ...Object.values(params)]);
    Object.values(adapters).forEach(disposeLora);
  });

  /** A two-block map with a qkv weight per block, and adapters built from `delta(name, path)`. */
  function smallCase(delta: (defense: string, path: string) => tf.Tensor2D) {
    const params = { "blocks.0.attn.qkv.weight": tf.ones([2, 3]) as tf.Tensor2D, "blocks.1.attn.qkv.weight": tf.ones([2, 3]) as tf.Tensor2D };
    const paths = ["blocks.0.attn.qkv", "blocks.1.attn.qkv"];
    const adapters: DefenseAdapters = Object.fromEntries(["pgd-at", "trades"].map((n) => [n, asAdapter(Object.fromEntries(paths.map((p) => [p, delta(n, p)])))]));
    const dispose = () => {
      tf.dispose(Object.values(params));
      Object.values(adapters).forEach(disposeLora);
    };
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
    const extra = asAdapter({ "blocks.9.attn.qkv": tf.zeros([2, 3]) as tf.Tensor2D });
    await assert.rejects(mergeWeights(c.params, { ...c.adapters, mart: extra }, lambdasOf(1)), /^Error: defense "mart": adapts modules \[blocks\.9\.attn\.qkv\], defense "pgd-at" adapts \[blocks\.0\.attn\.qkv, blocks\.1\.attn\.qkv\]/);
    await assert.rejects(mergeWeights(c.params, { mart: extra }, { mart: [1] }), /^Error: defense "mart": no weight "blocks\.9\.attn\.qkv\.weight" in the model to merge ΔW "blocks\.9\.attn\.qkv" \[2,3\] into$/);
    await assert.rejects(mergeWeights(c.params, c.adapters, { "pgd-at": [1, 1] }), /^Error: merge: no λ for defense "trades" \(λ given for "pgd-at"\)$/);
    await assert.rejects(mergeWeights(c.params, c.adapters, { "pgd-at": [1, 1], trades: [1] }), /^Error: merge: λ of defense "trades" has 1 values, its adapter reaches block 1$/);
    await assert.rejects(mergeWeights(c.params, c.adapters, { "pgd-at": [1, NaN], trades: [1, 1] }), /^Error: merge: λ of defense "pgd-at" at block 1 is NaN$/);
    await assert.rejects(mergeWeights(c.params, {}, {}), /^Error: merge: no defense adapters to merge$/);
    disposeLora(extra);
    c.dispose();
  });

  test("the uniformly merged plain ViT equals the LoRA forward with averaged ΔW", async () => {
    // Merging ΔW into W0 and running LoRA-free must equal adding the mean ΔW inside the forward.
    const params = randomParams(vit, 4);
    const x = randomImages(vit, 2, 13);
    const adapters = Object.fromEntries(perDefense.map((l, t) => [`defense-${t}`, l]));
    const plain = await mergeWeights(params, adapters, Object.fromEntries(Object.keys(adapters).map((n) => [n, new Array<number>(vit.depth).fill(1 / K)])));
    const a = tf.tidy(() => arr(forward(vit, plain, x)));
    // The mean ΔW as a rank-d_in "LoRA": a = I, b = mean ΔW, scale 1.
    const b = tf.tidy(() => {
      const factors = Object.fromEntries(Object.keys(perDefense[0].factors).map((p) => [p, { a: tf.eye(params[`${p}.weight`].shape[0]) as tf.Tensor2D, b: tf.div(tf.addN(perDefense.map((l) => deltaW(l.factors[p], l.scale))), K) as tf.Tensor2D }]));
      return arr(forward(vit, params, x, { lora: { scale: 1, factors } }));
    });
    assert.ok(maxAbsDiff(a, b) < 1e-5, `${maxAbsDiff(a, b)}`);
    for (const p of Object.keys(perDefense[0].factors)) plain[`${p}.weight`].dispose();
    x.dispose();
    disposeParams(params);
  });
});
