import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { saveModelFile, loadModelFile, modelFromTensors, paramsToTimm } from "../../../src/core/model/modelFile";
import { ViTConfig, LN_EPS } from "../../../src/core/model/config";
import { paramShapes, disposeParams } from "../../../src/core/model/params";
import { forward } from "../../../src/core/model/vit";
import { writeSafetensorsFile, readSafetensorsFile } from "../../../src/core/io/files";
import { RawTensor, timmShapeOf } from "../../../src/core/model/timmLayout";
import { Rng } from "../../../src/core/rng";
import { tinyConfig, randomParams, randomImages, referenceForward, maxAbsDiff } from "./tinyVit";

let dir: string;
before(async () => {
  await selectTestBackend();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-ckpt-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Random timm-layout tensors for `c`, built straight from timm shapes (no engine code). */
function timmTensors(c: ViTConfig, seed: number): Record<string, RawTensor> {
  const rng = Rng.fromSeed(seed, "timm-file");
  const out: Record<string, RawTensor> = {};
  for (const [name, engineShape] of paramShapes(c)) {
    const shape = timmShapeOf(name, engineShape);
    const data = rng.fillNormal(shape.reduce((a, b) => a * b, 1), 0.5);
    if (/norm\d?\.weight$/.test(name)) for (let i = 0; i < data.length; i++) data[i] += 1;
    out[name] = { shape, data };
  }
  return out;
}

/** `[rows, cols]` → `[cols, rows]`, written out here so the test does not trust timmLayout.ts. */
function t2(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = data[r * cols + k];
  return out;
}

async function logitsOf(c: ViTConfig, params: Record<string, tf.Tensor>, x: tf.Tensor4D): Promise<Float32Array> {
  const y = tf.tidy(() => forward(c, params, x));
  const d = (await y.data()) as Float32Array;
  y.dispose();
  return d;
}

describe("model files", () => {
  test("engine → file → engine round trip is bit-exact and keeps the config", async () => {
    const c = tinyConfig({ mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] });
    const p = randomParams(c, 1);
    const file = path.join(dir, "rt.safetensors");
    await saveModelFile(file, c, p, { provenance: "unit test" });
    const loaded = await loadModelFile(file);
    assert.deepEqual(loaded.config, c);
    assert.deepEqual(loaded.notes, []);
    assert.equal(loaded.metadata.provenance, "unit test");
    assert.equal(loaded.metadata.format, "hyperat-vit");
    for (const [name] of paramShapes(c)) {
      assert.deepEqual(loaded.params[name].shape, p[name].shape, name);
      const a = new Uint32Array(((await p[name].data()) as Float32Array).slice().buffer);
      const b = new Uint32Array(((await loaded.params[name].data()) as Float32Array).slice().buffer);
      assert.deepEqual([...b], [...a], name);
    }
    disposeParams(p);
    disposeParams(loaded.params);
  });

  test("saved files use timm layout: linear [d_out, d_in], patch kernel [D, C, P, P]", async () => {
    const c = tinyConfig();
    const p = randomParams(c, 2);
    const file = path.join(dir, "layout.safetensors");
    await saveModelFile(file, c, p);
    const { tensors, metadata } = await readSafetensorsFile(file);
    assert.deepEqual(tensors["blocks.0.attn.qkv.weight"].shape, [3 * c.dim, c.dim]);
    assert.deepEqual(tensors["blocks.1.mlp.fc1.weight"].shape, [c.mlpDim, c.dim]);
    assert.deepEqual(tensors["head.weight"].shape, [c.numClasses, c.dim]);
    assert.deepEqual(tensors["patch_embed.proj.weight"].shape, [c.dim, 3, c.patchSize, c.patchSize]);
    // timm fc1.weight[o][i] == engine fc1.weight[i][o]
    const eng = (await p["blocks.1.mlp.fc1.weight"].data()) as Float32Array;
    assert.equal(tensors["blocks.1.mlp.fc1.weight"].data[5 * c.dim + 3], eng[3 * c.mlpDim + 5]);
    assert.deepEqual(
      { heads: metadata.num_heads, mean: JSON.parse(metadata.mean), img: metadata.img_size, patch: metadata.patch_size, classes: metadata.num_classes, mlp: metadata.mlp_dim },
      { heads: "2", mean: [0.5, 0.5, 0.5], img: "8", patch: "4", classes: "3", mlp: "16" },
    );
    disposeParams(p);
  });

  test("a timm-named file built by hand gives the logits of an independent reference ViT", async () => {
    const c = tinyConfig({ depth: 1 });
    const t = timmTensors(c, 3);
    const file = path.join(dir, "timm.safetensors");
    await writeSafetensorsFile(file, t, { num_heads: "2" });
    const loaded = await loadModelFile(file);
    assert.deepEqual(loaded.config, c);
    const x = randomImages(c, 2);
    const got = await logitsOf(loaded.config, loaded.params, x);
    // Reference: engine-layout linears via the test's own transpose, timm conv weight as is.
    const ref: Record<string, Float32Array> = {};
    for (const [name, v] of Object.entries(t)) {
      ref[name] = /(qkv|proj|fc1|fc2)\.weight$|^head\.weight$/.test(name) && name !== "patch_embed.proj.weight" ? t2(v.data, v.shape[0], v.shape[1]) : v.data;
    }
    const want = referenceForward(c, ref, t["patch_embed.proj.weight"].data, (await x.data()) as Float32Array, 2).flat();
    assert.ok(maxAbsDiff(got, want) < 1e-4, `max diff ${maxAbsDiff(got, want)}`);
    x.dispose();
    disposeParams(loaded.params);
  });

  test("hand-computed logits: zero blocks, class token [1,2,3,4], head picks features", async () => {
    // dim 4, 1 block whose every weight is 0, so the class token passes unchanged to the final LN:
    // LN([1,2,3,4]) = (x - 2.5) / sqrt(1.25 + eps); head rows 0,1 pick features 0 and 3, bias 0.5.
    const c = tinyConfig({ dim: 4, heads: 1, depth: 1, mlpDim: 4, numClasses: 2 });
    const t = timmTensors(c, 4);
    for (const [name, v] of Object.entries(t)) if (name.startsWith("blocks.") || name === "pos_embed") v.data.fill(0);
    t["cls_token"].data.set([1, 2, 3, 4]);
    t["norm.weight"].data.fill(1);
    t["norm.bias"].data.fill(0);
    t["head.weight"].data.set([1, 0, 0, 0, 0, 0, 0, 1]); // [2, 4]
    t["head.bias"].data.fill(0.5);
    const file = path.join(dir, "hand.safetensors");
    await writeSafetensorsFile(file, t, { num_heads: "1" });
    const loaded = await loadModelFile(file);
    const x = randomImages(c, 1);
    const got = await logitsOf(loaded.config, loaded.params, x);
    const s = Math.sqrt(1.25 + LN_EPS);
    assert.ok(Math.abs(got[0] - (0.5 - 1.5 / s)) < 1e-5 && Math.abs(got[1] - (0.5 + 1.5 / s)) < 1e-5, `got [${[...got]}]`);
    x.dispose();
    disposeParams(loaded.params);
  });

  test("a Hugging Face transformers ViT file loads to the same logits as its timm twin", async () => {
    const c = tinyConfig();
    const t = timmTensors(c, 5);
    const D = c.dim;
    const hf: Record<string, RawTensor> = {
      "vit.embeddings.cls_token": t["cls_token"],
      "vit.embeddings.position_embeddings": t["pos_embed"],
      "vit.embeddings.patch_embeddings.projection.weight": t["patch_embed.proj.weight"],
      "vit.embeddings.patch_embeddings.projection.bias": t["patch_embed.proj.bias"],
      "vit.layernorm.weight": t["norm.weight"],
      "vit.layernorm.bias": t["norm.bias"],
      "classifier.weight": t["head.weight"],
      "classifier.bias": t["head.bias"],
      "vit.pooler.dense.weight": { shape: [D, D], data: new Float32Array(D * D) },
    };
    for (let i = 0; i < c.depth; i++) {
      const b = (n: string) => t[`blocks.${i}.${n}`];
      const L = `vit.encoder.layer.${i}`;
      ["query", "key", "value"].forEach((part, k) => {
        hf[`${L}.attention.attention.${part}.weight`] = { shape: [D, D], data: b("attn.qkv.weight").data.slice(k * D * D, (k + 1) * D * D) };
        hf[`${L}.attention.attention.${part}.bias`] = { shape: [D], data: b("attn.qkv.bias").data.slice(k * D, (k + 1) * D) };
      });
      for (const [from, to] of [["attn.proj", "attention.output.dense"], ["mlp.fc1", "intermediate.dense"], ["mlp.fc2", "output.dense"], ["norm1", "layernorm_before"], ["norm2", "layernorm_after"]]) {
        hf[`${L}.${to}.weight`] = b(`${from}.weight`);
        hf[`${L}.${to}.bias`] = b(`${from}.bias`);
      }
    }
    const timmFile = path.join(dir, "twin-timm.safetensors");
    const hfFile = path.join(dir, "twin-hf.safetensors");
    await writeSafetensorsFile(timmFile, t, { num_heads: "2" });
    await writeSafetensorsFile(hfFile, hf);
    const a = await loadModelFile(timmFile);
    const b = await loadModelFile(hfFile, { heads: 2 });
    assert.deepEqual(b.config, a.config);
    assert.ok(b.notes.some((n) => /Hugging Face/.test(n)) && b.notes.some((n) => /ignored 1 tensor.*pooler/.test(n)));
    const x = randomImages(c, 2);
    assert.deepEqual([...(await logitsOf(b.config, b.params, x))], [...(await logitsOf(a.config, a.params, x))]);
    x.dispose();
    disposeParams(a.params);
    disposeParams(b.params);
  });

  test("resizing for another image size, patch size and class count gives a working model", async () => {
    const c = tinyConfig(); // 8/4, 3 classes
    const file = path.join(dir, "resize.safetensors");
    await writeSafetensorsFile(file, timmTensors(c, 6), { num_heads: "2" });
    const r = await loadModelFile(file, { imgSize: 12, patchSize: 2, numClasses: 5 });
    assert.deepEqual([r.config.imgSize, r.config.patchSize, r.config.numClasses], [12, 2, 5]);
    assert.deepEqual(r.params["pos_embed"].shape, [1, 37, c.dim]);
    assert.deepEqual(r.params["patch_embed.proj.weight"].shape, [12, c.dim]);
    assert.deepEqual([...(await r.params["head.weight"].data())], new Array(c.dim * 5).fill(0));
    assert.equal(r.notes.filter((n) => /resampled 4x4 -> 2x2|resized 2x2 -> 6x6|head replaced: file has 3 classes/.test(n)).length, 3, r.notes.join("; "));
    const x = randomImages(r.config, 2);
    const y = await logitsOf(r.config, r.params, x);
    assert.deepEqual([...y], new Array(10).fill(0)); // zero head
    x.dispose();
    disposeParams(r.params);
  });

  test("heads default to width/64 and mean/std to 0.5 when metadata is absent, with notes", () => {
    const c = tinyConfig({ dim: 64, heads: 1, mlpDim: 8, depth: 1 });
    const r = modelFromTensors(timmTensors(c, 7), {}, {}, "m.safetensors");
    assert.equal(r.config.heads, 1);
    assert.deepEqual(r.config.mean, [0.5, 0.5, 0.5]);
    assert.ok(r.notes.some((n) => /head dim 64/.test(n)));
  });

  const errorCases: Array<[string, (t: Record<string, RawTensor>) => void, Record<string, string>, object, RegExp]> = [
    ["missing tensor", (t) => delete t["blocks.0.mlp.fc2.bias"], { num_heads: "2" }, {}, /m\.st: missing tensor "blocks\.0\.mlp\.fc2\.bias" \(expected shape \[8\]\)/],
    [
      "wrong-shaped tensor",
      (t) => (t["blocks.1.attn.proj.weight"] = { shape: [8, 7], data: new Float32Array(56) }),
      { num_heads: "2" },
      {},
      /m\.st: tensor "blocks\.1\.attn\.proj\.weight" has shape \[8,7\], expected \[8,8\]/,
    ],
    ["unknown tensor", (t) => (t["fc_norm.weight"] = { shape: [8], data: new Float32Array(8) }), { num_heads: "2" }, {}, /unsupported tensors "fc_norm\.weight" \[8\]/],
    ["no patch embedding", (t) => delete t["patch_embed.proj.weight"], {}, {}, /missing tensor "patch_embed\.proj\.weight"/],
    ["non-square position grid", (t) => (t["pos_embed"] = { shape: [1, 6, 8], data: new Float32Array(48) }), {}, {}, /"pos_embed" has shape \[1,6,8\]/],
    ["heads contradicting metadata", () => undefined, { num_heads: "2" }, { heads: 4 }, /heads override 4 contradicts __metadata__\.num_heads = 2/],
    ["bad mean metadata", () => undefined, { num_heads: "2", mean: "[1,2]" }, {}, /__metadata__\.mean = "\[1,2\]" is not a JSON array of 3 numbers/],
    ["no head and no class count", (t) => (delete t["head.weight"], delete t["head.bias"]), { num_heads: "2" }, {}, /no "head\.weight"; pass the number of classes/],
    ["width not a multiple of 64 without heads", () => undefined, {}, {}, /width 8 is not a multiple of 64; pass the number of heads/],
    ["image size not divisible by patch", () => undefined, { num_heads: "2" }, { imgSize: 10 }, /imgSize 10 is not divisible by patchSize 4/],
  ];
  for (const [name, mutate, meta, over, msg] of errorCases) {
    test(`error: ${name}`, () => {
      const t = timmTensors(tinyConfig(), 8);
      mutate(t);
      assert.throws(() => modelFromTensors(t, meta, over, "m.st"), msg);
    });
  }

  test("load creates exactly the parameter tensors; save creates none", async () => {
    const c = tinyConfig();
    const p = randomParams(c, 9);
    const file = path.join(dir, "leak.safetensors");
    const before0 = tf.memory().numTensors;
    await saveModelFile(file, c, p);
    await paramsToTimm(c, p);
    assert.equal(tf.memory().numTensors, before0);
    const l = await loadModelFile(file, { imgSize: 16, numClasses: 4 });
    assert.equal(tf.memory().numTensors, before0 + paramShapes(c).length);
    disposeParams(l.params);
    disposeParams(p);
    assert.equal(tf.memory().numTensors, before0 - paramShapes(c).length);
  });
});
