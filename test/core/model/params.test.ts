import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { checkParams, disposeParams, initParams, moduleDims, modulePath, paramShapes } from "../../../src/core/model/params";
import { PRESETS, presetConfig, numPatches, numTokens } from "../../../src/core/model/config";
import { tinyConfig } from "./tinyVit";

describe("ViT config and parameter layout", () => {
  before(async () => {
    await selectTestBackend();
  });

  test("presets carry timm's widths, depths and heads", () => {
    assert.deepEqual(PRESETS["vit-tiny"], { dim: 192, depth: 12, heads: 3, mlpDim: 768 });
    assert.deepEqual(PRESETS["vit-small"], { dim: 384, depth: 12, heads: 6, mlpDim: 1536 });
    assert.deepEqual(PRESETS["vit-base"], { dim: 768, depth: 12, heads: 12, mlpDim: 3072 });
    assert.deepEqual(PRESETS["vit-large"], { dim: 1024, depth: 24, heads: 16, mlpDim: 4096 });
    const micro = presetConfig("vit-micro");
    assert.equal(micro.patchSize, 8);
    assert.equal(numPatches(micro), 16);
    assert.equal(numTokens(micro), 17);
    assert.equal(presetConfig("vit-small", { imgSize: 64, numClasses: 100 }).patchSize, 4);
    assert.throws(() => presetConfig("vit-huge"), /unknown model preset "vit-huge"; known: vit-micro, vit-tiny/);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ["imgSize not divisible by patchSize", { imgSize: 10 }, /imgSize 10 is not divisible by patchSize 4/],
    ["dim not divisible by heads", { heads: 3 }, /dim 8 is not divisible by heads 3/],
    ["zero depth", { depth: 0 }, /depth must be a positive integer, got 0/],
    ["fractional dim", { dim: 8.5 }, /dim must be a positive integer, got 8.5/],
    ["grayscale", { inChans: 1 }, /inChans must be 3/],
    ["zero std", { std: [0.5, 0, 0.5] }, /std must be positive/],
  ];
  for (const [name, over, err] of invalid) {
    test(`validateConfig rejects ${name}`, () => assert.throws(() => tinyConfig(over), err));
  }

  test("module paths and dims follow timm ([d_in, d_out] engine layout)", () => {
    const c = tinyConfig();
    assert.equal(modulePath(1, "qkv"), "blocks.1.attn.qkv");
    assert.equal(modulePath(0, "proj"), "blocks.0.attn.proj");
    assert.equal(modulePath(3, "fc1"), "blocks.3.mlp.fc1");
    assert.deepEqual(moduleDims(c, "qkv"), [8, 24]);
    assert.deepEqual(moduleDims(c, "proj"), [8, 8]);
    assert.deepEqual(moduleDims(c, "fc1"), [8, 16]);
    assert.deepEqual(moduleDims(c, "fc2"), [16, 8]);
  });

  test("paramShapes counts what timm's VisionTransformer has", () => {
    const c = tinyConfig();
    const D = 8, T = 5, M = 16, C = 3;
    const perBlock = 4 * D + (D * 3 * D + 3 * D) + (D * D + D) + (D * M + M) + (M * D + D);
    const want = 48 * D + D + D + T * D + 2 * perBlock + 2 * D + D * C + C;
    const total = paramShapes(c).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
    assert.equal(total, want);
    assert.equal(new Set(paramShapes(c).map(([n]) => n)).size, paramShapes(c).length, "names are unique");
    const p = initParams(c, 1);
    const size = (keep: (name: string) => boolean) => Object.entries(p).filter(([n]) => keep(n)).reduce((a, [, t]) => a + t.size, 0);
    assert.equal(size(() => true), want);
    assert.equal(size((n) => n.startsWith("head.")), D * C + C);
    disposeParams(p);
  });

  test("initParams: zero head and biases, unit LayerNorm gains, truncated normal (|w| ≤ 0.04) weights", () => {
    const c = tinyConfig();
    const p = initParams(c, 2);
    const vals = (n: string) => Array.from(p[n].dataSync());
    assert.ok(vals("head.weight").every((v) => v === 0) && vals("head.bias").every((v) => v === 0));
    assert.ok(vals("blocks.1.mlp.fc1.bias").every((v) => v === 0));
    assert.ok(vals("blocks.0.norm2.weight").every((v) => v === 1) && vals("norm.weight").every((v) => v === 1));
    const w = vals("blocks.0.attn.qkv.weight");
    assert.ok(w.every((v) => Math.abs(v) <= 0.04 + 1e-7) && w.some((v) => v !== 0));
    disposeParams(p);
  });

  test("checkParams names a missing, mis-shaped or unexpected tensor", () => {
    const c = tinyConfig();
    const p = initParams(c, 1);
    checkParams(c, p);
    const { ["blocks.1.mlp.fc2.bias"]: gone, ...missing } = p;
    assert.throws(() => checkParams(c, missing, "model.safetensors"), /model\.safetensors: missing tensor "blocks\.1\.mlp\.fc2\.bias" \(expected shape \[8\]\)/);
    const wrong = tf.zeros([24, 8]);
    assert.throws(() => checkParams(c, { ...p, "blocks.0.attn.qkv.weight": wrong }), /tensor "blocks\.0\.attn\.qkv\.weight" has shape \[24,8\], expected \[8,24\]/);
    const extra = tf.zeros([1]);
    assert.throws(() => checkParams(c, { ...p, "dist_token": extra }), /unexpected tensors "dist_token"/);
    tf.dispose([gone, wrong, extra]);
    disposeParams(missing);
  });
});
