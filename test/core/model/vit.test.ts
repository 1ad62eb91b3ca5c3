import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { initParams, disposeParams, paramShapes } from "../../../src/core/model/params";
import { forward, features, patchify, layerNorm, gelu, classifier, setFastPaths } from "../../../src/core/model/vit";
import { Rng } from "../../../src/core/rng";
import { tinyConfig, randomParams, randomImages, referenceForward, convToEngine, maxAbsDiff, snapshot } from "./tinyVit";

const values = (t: tf.Tensor) => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};
/** Runs `fn` with the fast compute paths on or off, restoring the previous setting. */
function withFastPaths<T>(on: boolean, fn: () => T): T {
  const old = setFastPaths(on);
  try {
    return fn();
  } finally {
    setFastPaths(old);
  }
}
const PATHS = [
  { label: "fast paths", on: true },
  { label: "stock tfjs ops", on: false },
];

const closeAll = (got: number[], want: number[], tol: number, what: string) => {
  assert.equal(got.length, want.length, `${what}: length`);
  const d = maxAbsDiff(got, want);
  assert.ok(d <= tol, `${what}: max |Δ| = ${d} > ${tol}\n got  ${got.join(", ")}\n want ${want.join(", ")}`);
};

describe("ViT forward", () => {
  before(async () => {
    await selectTestBackend();
  });

  const shapes = [
    { name: "tiny, batch 2", over: {}, B: 2 },
    { name: "depth 1, 5 classes, batch 1", over: { depth: 1, numClasses: 5 }, B: 1 },
    { name: "patch 2 (16 patches), batch 3", over: { patchSize: 2 }, B: 3 },
  ];
  for (const s of shapes) {
    test(`output shape is [B, classes]: ${s.name}`, () => {
      const c = tinyConfig(s.over);
      const p = initParams(c, 1);
      const x = randomImages(c, s.B);
      const y = tf.tidy(() => forward(c, p, x));
      assert.deepEqual(y.shape, [s.B, c.numClasses]);
      const f = tf.tidy(() => features(c, p, x));
      assert.deepEqual(f.shape, [s.B, c.dim]);
      tf.dispose([x, y, f]);
      disposeParams(p);
    });
  }

  test("rejects an input of the wrong size, naming both shapes", () => {
    const c = tinyConfig();
    const p = initParams(c, 1);
    const x = tf.zeros([1, 6, 6, 3]) as tf.Tensor4D;
    assert.throws(() => tf.tidy(() => forward(c, p, x)), /expects input \[B, 8, 8, 3\], got \[1,6,6,3\]/);
    x.dispose();
    disposeParams(p);
  });

  test("patchify + matMul equals timm's Conv2d(kernel = stride = P) as nested loops", () => {
    const B = 2, S = 4, P = 2, C = 3, D = 5;
    const rng = Rng.fromSeed(11, "conv");
    const xData = rng.fillUniform(B * S * S * C, -1, 1);
    const conv = rng.fillNormal(D * C * P * P); // timm layout [D, C, P, P]
    const g = S / P;
    // out[b, n = i·g + j, d] = Σ_{c,ph,pw} W[d,c,ph,pw] · x[b, iP+ph, jP+pw, c]  (flatten(2).transpose(1,2))
    const want: number[] = [];
    for (let b = 0; b < B; b++) for (let i = 0; i < g; i++) for (let j = 0; j < g; j++) for (let d = 0; d < D; d++) {
      let s = 0;
      for (let c = 0; c < C; c++) for (let ph = 0; ph < P; ph++) for (let pw = 0; pw < P; pw++) {
        s += conv[((d * C + c) * P + ph) * P + pw] * xData[((b * S + i * P + ph) * S + j * P + pw) * C + c];
      }
      want.push(s);
    }
    const got = tf.tidy(() => {
      const x = tf.tensor4d(xData, [B, S, S, C]);
      const w = tf.tensor2d(convToEngine(conv, D, C * P * P), [C * P * P, D]);
      const patches = patchify(x, P);
      assert.deepEqual(patches.shape, [B * g * g, C * P * P]);
      return tf.matMul(patches, w);
    });
    closeAll(values(got), want, 1e-5, "patch embedding");
  });

  test("a block with zero linear maps is the identity: logits = LN(cls + pos₀) · W_head + b_head by hand", () => {
    // Zero qkv/proj/fc1/fc2 (biases are zero from initParams): attention and MLP add 0, so
    // h = [1, 3] + [0, 1] = [1, 4] → mean 2.5, var 2.25 → normalized [-1, 1] → γ = [2, 1],
    // β = [0, 0.5] → f = [-2, 1.5] → f·W + b with W = [[1,0,2],[0,1,1]], b = [.1,.2,.3].
    const c = tinyConfig({ depth: 1, dim: 2, heads: 1, mlpDim: 2 });
    const p = initParams(c, 3);
    const set = (name: string, data: number[]) => {
      const shape = p[name].shape;
      p[name].dispose();
      p[name] = tf.tensor(data, shape);
    };
    for (const m of ["attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"]) set(`blocks.0.${m}.weight`, new Array(p[`blocks.0.${m}.weight`].size).fill(0));
    set("cls_token", [1, 3]);
    set("pos_embed", [0, 1, ...new Array(2 * 4).fill(5)]);
    set("norm.weight", [2, 1]);
    set("norm.bias", [0, 0.5]);
    set("head.weight", [1, 0, 2, 0, 1, 1]);
    set("head.bias", [0.1, 0.2, 0.3]);
    const x = randomImages(c, 2);
    const s = Math.sqrt(2.25 / (2.25 + 1e-6)); // LayerNorm eps 1e-6
    const f = [-2 * s, s + 0.5];
    const row = [f[0] + 0.1, f[1] + 0.2, 2 * f[0] + f[1] + 0.3]; // ≈ [-1.9, 1.7, -2.2]
    closeAll(values(tf.tidy(() => forward(c, p, x))), [...row, ...row], 1e-5, "logits");
    x.dispose();
    disposeParams(p);
  });

  const refCases = [
    { name: "depth 2, 2 heads", over: {} },
    { name: "depth 1, 4 heads, patch 2", over: { depth: 1, heads: 4, patchSize: 2 } },
  ];
  for (const rc of refCases) for (const fp of PATHS) {
    test(`matches a plain-JS reference ViT (timm semantics): ${rc.name}, ${fp.label}`, () => {
      const c = tinyConfig(rc.over);
      const p = randomParams(c, 5);
      const CPP = 3 * c.patchSize ** 2;
      const conv = Rng.fromSeed(6, "conv").fillNormal(c.dim * CPP, 0.5);
      p["patch_embed.proj.weight"].dispose();
      p["patch_embed.proj.weight"] = tf.tensor2d(convToEngine(conv, c.dim, CPP), [CPP, c.dim]);
      const B = 2;
      const x = randomImages(c, B, 9);
      const want = referenceForward(c, snapshot(p), conv, x.dataSync() as Float32Array, B).flat();
      closeAll(values(withFastPaths(fp.on, () => tf.tidy(() => forward(c, p, x)))), want, 1e-4, "logits");
      x.dispose();
      disposeParams(p);
    });
  }

  for (const fp of PATHS) test(`layerNorm over the last axis with eps 1e-6 matches hand values (${fp.label})`, () => {
    // Row [1, 2, 3, 4]: mean 2.5, var 1.25; row [0, 0, 0, 0]: zero variance → β (eps avoids 0/0).
    const got = withFastPaths(fp.on, () => values(tf.tidy(() => layerNorm(tf.tensor2d([[1, 2, 3, 4], [0, 0, 0, 0]]), tf.tensor1d([1, 2, 1, 1]), tf.tensor1d([0, 0, 1, -1])))));
    const sd = Math.sqrt(1.25 + 1e-6);
    closeAll(got, [-1.5 / sd, (2 * -0.5) / sd, 0.5 / sd + 1, 1.5 / sd - 1, 0, 0, 1, -1], 1e-6, "layerNorm");
  });

  for (const fp of PATHS) test(`GELU is the exact erf form, not the tanh approximation (${fp.label})`, () => {
    const got = withFastPaths(fp.on, () => values(tf.tidy(() => gelu(tf.tensor1d([1, -1, 0, 2, -3])))));
    // Φ-based values; tanh-GELU(1) would be 0.8411920 (off by 2.5e-4).
    closeAll(got, [0.8413447, -0.1586553, 0, 1.9544997, -0.0040496], 2e-6, "gelu");
  });

  test("classifier(c, p) is forward bound to the parameters", () => {
    const c = tinyConfig();
    const p = randomParams(c, 2);
    const x = randomImages(c, 2);
    const a = values(tf.tidy(() => classifier(c, p)(x)));
    const b = values(tf.tidy(() => forward(c, p, x)));
    assert.deepEqual(a, b);
    x.dispose();
    disposeParams(p);
  });

  test("initParams is deterministic per seed and has every timm name with the engine shape", () => {
    const c = tinyConfig();
    const a = initParams(c, 4);
    const b = initParams(c, 4);
    const d = initParams(c, 5);
    for (const [name, shape] of paramShapes(c)) assert.deepEqual(a[name].shape, shape, name);
    assert.deepEqual(Object.keys(a).sort(), paramShapes(c).map(([n]) => n).sort());
    assert.deepEqual(snapshot(a), snapshot(b));
    assert.notDeepEqual(snapshot(a)["blocks.0.attn.qkv.weight"], snapshot(d)["blocks.0.attn.qkv.weight"]);
    [a, b, d].forEach(disposeParams);
  });

  test("does not leak tensors", () => {
    const c = tinyConfig();
    const p = randomParams(c, 2);
    const x = randomImages(c, 2);
    tf.tidy(() => forward(c, p, x)); // warm-up: kernels may cache constants once
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => forward(c, p, x)).dispose();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    disposeParams(p);
  });
});
