// Loading a model the way users hand it over: a merged/<strategy>/ export, a plain PyTorch
// state_dict with a timm config.json beside it, or an hf: id from the local Hub cache. The timm
// fixture (test/fixtures/timm-vit, written by timm itself, see timmReference.test.ts) has 3 heads
// at width 48 and ImageNet normalization: nothing in its tensors says so, only a config.json can.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../../src/core/backend/select";
import { loadModelSpec } from "../../../src/core/model/modelSource";
import { forward } from "../../../src/core/model/vit";
import { ViTConfig, validateConfig as validateVit } from "../../../src/core/model/config";
import { disposeParams, initParams } from "../../../src/core/model/params";
import { readSafetensorsFile, writeSafetensorsFile } from "../../../src/core/io/files";
import { validateConfig } from "../../../src/core/config/validate";
import { writeMergedFolder } from "../../../src/daemon/engine/exports";
import { relErr } from "./fastpathCases";
import { hintsFromTimmConfig } from "../../../src/core/model/timmConfig";

const fixtureDir = path.join(__dirname, "..", "..", "fixtures", "timm-vit");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** config.json as timm's push_to_hub writes it for a non-standard ViT (model_args given). */
const timmHubConfig = {
  architecture: "vit_tiny_patch16_224",
  num_classes: 7,
  num_features: 48,
  global_pool: "token",
  model_args: { img_size: 32, patch_size: 4, embed_dim: 48, depth: 2, num_heads: 3, mlp_ratio: 4 },
  pretrained_cfg: { input_size: [3, 32, 32], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], num_classes: 7, first_conv: "patch_embed.proj", classifier: "head" },
};

test("config.json hints: a timm Hub config without model_args gives the family's heads, only at the family's width", () => {
  // timm/vit_base_patch16_224.augreg_in21k_ft_in1k's config.json, as on the Hub (abridged).
  const hub = {
    architecture: "vit_base_patch16_224",
    num_classes: 1000,
    num_features: 768,
    global_pool: "token",
    pretrained_cfg: { tag: "augreg_in21k_ft_in1k", input_size: [3, 224, 224], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], num_classes: 1000 },
  };
  assert.deepEqual(hintsFromTimmConfig(hub, "c.json"), { where: "c.json", heads: 12, dim: 768, depth: undefined, patchSize: 16, numClasses: 1000, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.equal(hintsFromTimmConfig({ ...hub, architecture: "vit_huge_patch14_224", num_features: 1280 }, "c.json").heads, 16);
  assert.equal(hintsFromTimmConfig({ ...hub, num_features: 384 }, "c.json").heads, undefined, "a base name at another width says nothing about heads");
  assert.throws(() => hintsFromTimmConfig({ ...hub, global_pool: "avg" }, "c.json"), /c\.json: global_pool "avg" is not supported/);
  assert.throws(() => hintsFromTimmConfig({ ...hub, pretrained_cfg: { mean: [0.5, 0.5] } }, "c.json"), /c\.json: pretrained_cfg\.mean must be 3 numbers/);
  assert.throws(() => hintsFromTimmConfig([], "c.json"), /c\.json: is not a JSON object/);
});

describe("model sources: folders, config.json, hf: ids", () => {
  let tmp: string;
  let savedCache: string | undefined;
  before(async () => {
    await selectBackend("cpu");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-src-"));
    savedCache = process.env.HF_HUB_CACHE;
  });
  after(() => {
    if (savedCache === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = savedCache;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("hf: id → cached snapshot: timm's own file and config.json reproduce timm's logits with no overrides", async () => {
    const cache = path.join(tmp, "hub");
    const snap = path.join(cache, "models--someone--tiny-vit", "snapshots", COMMIT);
    fs.mkdirSync(snap, { recursive: true });
    fs.mkdirSync(path.join(cache, "models--someone--tiny-vit", "refs"));
    fs.writeFileSync(path.join(cache, "models--someone--tiny-vit", "refs", "main"), COMMIT);
    fs.copyFileSync(path.join(fixtureDir, "model.safetensors"), path.join(snap, "model.safetensors"));
    fs.writeFileSync(path.join(snap, "config.json"), JSON.stringify(timmHubConfig));
    process.env.HF_HUB_CACHE = cache;
    const m = await loadModelSpec("hf:someone/tiny-vit");
    assert.equal(m.source.pinned, `hf:someone/tiny-vit@${COMMIT}`);
    assert.deepEqual([m.config.heads, m.config.dim, m.config.numClasses, ...m.config.mean], [3, 48, 7, 0.485, 0.456, 0.406]);
    const expected = (await readSafetensorsFile(path.join(fixtureDir, "expected.safetensors"))).tensors;
    const x = tf.tensor4d(expected.x.data as Float32Array, expected.x.shape as [number, number, number, number]);
    const logits = tf.tidy(() => forward(m.config, m.params, x));
    const timm = tf.tensor(expected.logits.data, expected.logits.shape);
    const err = relErr(logits, timm);
    assert.ok(err < 1e-4, `logits differ from timm's by ${err}`);
    tf.dispose([x, logits, timm]);
    disposeParams(m.params);
    // The same file alone carries no head count: it is refused rather than guessed.
    await assert.rejects(loadModelSpec(path.join(fixtureDir, "model.safetensors")), /no num_heads metadata and width 48 is not a multiple of 64/);
  });

  test("export round trip: merged/<strategy>/ loads back from its folder, and as a bare state_dict through config.json, with identical logits", async () => {
    const vit: ViTConfig = validateVit({ imgSize: 16, patchSize: 4, inChans: 3, numClasses: 5, dim: 24, depth: 2, heads: 2, mlpDim: 48, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] });
    const params = initParams(vit, 7);
    const cfg = validateConfig({ name: "r", data: { train: "synthetic:shapes10?n=10" }, model: { path: "/m.safetensors" }, lora: { rank: 4, alpha: 8 } });
    const runDir = path.join(tmp, "run");
    const file = await writeMergedFolder({ runDir, cfg, backbone: { vit, params, source: "/m.safetensors", notes: [] }, vit, params, strategy: "adaptive", lambdas: {}, lambdaSteps: 0, step: 3, from: "latest", classNames: ["a", "b", "c", "d", "e"] });
    const folder = path.dirname(file);
    const x = tf.randomUniform([3, 16, 16, 3], 0, 1, "float32", 5) as tf.Tensor4D;
    const ours = tf.tidy(() => forward(vit, params, x));
    const same = async (spec: string) => {
      const m = await loadModelSpec(spec);
      assert.deepEqual(m.config, vit);
      const back = tf.tidy(() => forward(m.config, m.params, x));
      assert.deepEqual(back.dataSync(), ours.dataSync(), `${spec}: logits must be identical`);
      back.dispose();
      disposeParams(m.params);
    };
    await same(folder);
    await same(file);
    // What torch's save_file(model.state_dict()) writes: the same tensors, no __metadata__.
    const { tensors } = await readSafetensorsFile(file);
    await writeSafetensorsFile(file, Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])));
    assert.deepEqual((await readSafetensorsFile(file)).metadata, {});
    await same(folder);
    // A config.json of another model is caught, naming both files.
    const conf = path.join(folder, "config.json");
    const doc = JSON.parse(fs.readFileSync(conf, "utf8"));
    fs.writeFileSync(conf, JSON.stringify({ ...doc, model_args: { ...doc.model_args, embed_dim: 32 } }));
    await assert.rejects(loadModelSpec(folder), new RegExp(`${conf.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} says embed_dim 32 but .*model\\.safetensors has 24`));
    fs.writeFileSync(conf, "{ not json");
    await assert.rejects(loadModelSpec(folder), /config\.json: not valid JSON/);
    await assert.rejects(loadModelSpec(path.join(tmp, "nowhere")), /model .*nowhere: file not found/);
    fs.mkdirSync(path.join(tmp, "emptydir"));
    await assert.rejects(loadModelSpec(path.join(tmp, "emptydir")), /has no model\.safetensors \(expected a merged\/<strategy>\/ export or a timm local-dir\)/);
    tf.dispose([x, ours]);
    disposeParams(params);
  });
});
