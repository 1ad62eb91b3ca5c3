import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { foldAdapter, foldCombined } from "../../../src/core/train/fold";
import { foldAdapters } from "../../../src/core/train/merge";
import { deltaW, LoraSet } from "../../../src/core/model/lora";
import { LoraTunable } from "../../../src/core/train/tunable";
import { disposeParams, ParamMap } from "../../../src/core/model/params";
import { tinyConfig, randomParams } from "../model/tinyVit";

const vit = tinyConfig();

before(async () => {
  await selectTestBackend();
});

type Deltas = Record<string, tf.Tensor2D>;

/** Every ΔW of one adapter materialized (what the folds avoid holding). */
const adapterDeltas = (lora: LoraSet): Deltas => Object.fromEntries(Object.entries(lora.factors).map(([p, f]) => [p, deltaW(f, lora.scale)]));

/** The reference: every ΔW materialized and scaled first, then added (what folding avoids). */
function materializeThenAdd(p: ParamMap, deltas: Deltas[], lambdas: number[][]): ParamMap {
  const out: ParamMap = { ...p };
  for (const path of Object.keys(deltas[0])) {
    const l = Number(/^blocks\.(\d+)\./.exec(path)![1]);
    out[`${path}.weight`] = tf.add(p[`${path}.weight`], tf.addN(deltas.map((d, t) => tf.mul(d[path], lambdas[t][l]))));
  }
  return out;
}

async function same(a: ParamMap, b: ParamMap): Promise<void> {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const k of Object.keys(a)) assert.deepEqual(await a[k].data(), await b[k].data(), k);
}

test("module-by-module folding gives the same bits as materialize-all-then-add, and frees its temporaries", async () => {
  const p = randomParams(vit, 1);
  const loras = [2, 3, 4].map((seed) => new LoraTunable(p, vit, { rank: 2, alpha: 4, targets: ["qkv", "proj", "fc1", "fc2"] }, seed));
  for (const l of loras) for (const v of Object.values(l.vars)) v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.2, "float32", 5)));
  const sets = loras.map((l) => l.lora()!);
  const lambdas = [0, 1, 2].map((t) => Array.from({ length: vit.depth }, (_, l) => 0.1 * (t + 1) + 0.05 * l));

  const before = tf.memory().numTensors;
  const made = (m: ParamMap) => Object.entries(m).filter(([k, v]) => p[k] !== v).map(([, v]) => v);
  const a1 = foldAdapter(p, sets[0]);
  // foldAdapter makes exactly one new tensor per adapted module: no ΔW survives.
  assert.equal(tf.memory().numTensors - before, made(a1).length);
  const b1 = tf.tidy(() => materializeThenAdd(p, [adapterDeltas(sets[0])], [lambdas[0].map(() => 1)]));
  await same(a1, b1);

  const a2 = foldCombined(p, sets, [1 / 3, 1 / 3, 1 / 3]);
  const b2 = tf.tidy(() => materializeThenAdd(p, sets.map(adapterDeltas), lambdas.map((r) => r.map(() => 1 / 3))));
  await same(a2, b2);

  // The checked merge's fold from the factors, per-block λ: the same bits as every ΔW materialized first.
  const deltas = sets.map((s) => tf.tidy(() => adapterDeltas(s)));
  const a3 = foldAdapters(p, sets, lambdas);
  const b3 = tf.tidy(() => materializeThenAdd(p, deltas, lambdas));
  await same(a3, b3);

  tf.dispose([...[a1, b1, a2, b2, a3, b3].flatMap(made), ...deltas.flatMap((d) => Object.values(d))]);
  assert.equal(tf.memory().numTensors, before);
  loras.forEach((l) => l.dispose());
  disposeParams(p);
});
