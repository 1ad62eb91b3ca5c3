import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { presetConfig } from "../../../src/core/model/config";
import { timmConfig, vitFromTimmConfig, nearestTimmArchitecture } from "../../../src/core/model/timmConfig";
import { nextBest, selectionTarget } from "../../../src/daemon/best";
import { resolveCheckpoint, isCheckpointRef } from "../../../src/daemon/engine/checkpointFiles";
import { listMergedModels, peftAdapterConfig } from "../../../src/daemon/engine/exports";
import { robustbenchEntry, datasetName } from "../../../src/daemon/engine/robustbench";
import { validateConfig } from "../../../src/core/config/validate";

test("config.json: timm fields derived from a ViT-B/16 resized for CIFAR, and read back to the same ViT", () => {
  const vit = presetConfig("vit-base", { imgSize: 32, patchSize: 4, numClasses: 10 });
  const c = timmConfig(vit, ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
  assert.equal(c.architecture, "vit_base_patch16_224");
  assert.equal(c.num_classes, 10);
  assert.equal(c.num_features, 768);
  assert.deepEqual(c.model_args, { img_size: 32, patch_size: 4, in_chans: 3, num_classes: 10, embed_dim: 768, depth: 12, num_heads: 12, mlp_ratio: 4, qkv_bias: true, class_token: true, global_pool: "token" });
  assert.deepEqual(c.pretrained_cfg.input_size, [3, 32, 32]);
  assert.deepEqual(c.pretrained_cfg.mean, [0.5, 0.5, 0.5]);
  assert.deepEqual(vitFromTimmConfig(JSON.parse(JSON.stringify(c)), "config.json"), vit);
  assert.equal(nearestTimmArchitecture({ dim: 384, depth: 12, heads: 6 }), "vit_small_patch16_224");
  assert.equal(nearestTimmArchitecture({ dim: 64, depth: 4, heads: 4 }), "vit_tiny_patch16_224");
  assert.throws(() => vitFromTimmConfig({ ...c, model_args: { ...c.model_args, global_pool: "avg" } }, "x/config.json"), /x\/config\.json: model_args\.global_pool "avg" is not supported/);
});

test("best: only the merged target's validation counts; ties go to the later step; NaN never wins", () => {
  const rec = (step: number, target: string, w: number) => ({ step, target, cleanAccuracy: 0.9, robustAccuracy: { "pgd-10": w }, worstCaseRobustAccuracy: w });
  assert.equal(selectionTarget("hyperat", ["pgd-at", "trades"]), "uniform");
  assert.equal(selectionTarget("lora-at", ["trades"]), "trades");
  let b = nextBest(undefined, rec(10, "uniform", 0.3), "uniform");
  b = nextBest(b, rec(20, "pgd-at", 0.9), "uniform");
  b = nextBest(b, rec(30, "uniform", 0.2), "uniform");
  assert.equal(b?.step, 10);
  b = nextBest(b, rec(40, "uniform", 0.3), "uniform");
  assert.deepEqual(b, { target: "uniform", split: "val", attack: "pgd-10", step: 40, worstCaseRobustAccuracy: 0.3, cleanAccuracy: 0.9 });
  assert.equal(nextBest(b, rec(50, "uniform", NaN), "uniform"), b);
});

test("--from refs resolve to the newest, the best folder or a step, and a missing one lists what exists", async () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-ck-"));
  try {
    const ck = path.join(run, "checkpoints");
    fs.mkdirSync(path.join(ck, "best"), { recursive: true });
    for (const [d, s] of [[ck, 20], [ck, 30], [path.join(ck, "best"), 10]] as const) {
      fs.writeFileSync(path.join(d, `step-${s}.safetensors`), "");
      fs.writeFileSync(path.join(d, `step-${s}.json`), "{}");
    }
    fs.writeFileSync(path.join(ck, "step-40.safetensors"), ""); // incomplete: no .json
    assert.equal((await resolveCheckpoint(run, "latest")).step, 30);
    assert.equal((await resolveCheckpoint(run, "best")).json, path.join(ck, "best", "step-10.json"));
    assert.equal((await resolveCheckpoint(run, "step-20")).step, 20);
    assert.equal((await resolveCheckpoint(run, "step-10")).step, 10);
    await assert.rejects(resolveCheckpoint(run, "step-40"), /no checkpoint "step-40"; available: step-20, step-30, best = step-10/);
    assert.ok(isCheckpointRef("step-7") && !isCheckpointRef("step-x") && !isCheckpointRef("first"));
  } finally {
    fs.rmSync(run, { recursive: true, force: true });
  }
});

test("merged models are listed from folders and from the old flat merged/model-<strategy>.safetensors", async () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-merged-"));
  try {
    const m = path.join(run, "merged");
    fs.mkdirSync(path.join(m, "adaptive"), { recursive: true });
    fs.writeFileSync(path.join(m, "adaptive", "model.safetensors"), "");
    fs.writeFileSync(path.join(m, "model-uniform.safetensors"), "");
    fs.writeFileSync(path.join(m, "model.safetensors"), ""); // the old "latest" copy: not a strategy
    fs.mkdirSync(path.join(m, "empty"));
    assert.deepEqual(await listMergedModels(run), [
      { strategy: "adaptive", file: path.join(m, "adaptive", "model.safetensors"), folder: path.join(m, "adaptive") },
      { strategy: "uniform", file: path.join(m, "model-uniform.safetensors") },
    ]);
  } finally {
    fs.rmSync(run, { recursive: true, force: true });
  }
});

test("PEFT adapter_config.json and the RobustBench entry have their tools' field names", () => {
  const cfg = validateConfig({ name: "r", data: { train: "/d/cifar-10-batches-bin" }, model: { path: "/m.safetensors" }, lora: { rank: 4, alpha: 8 } });
  const a = peftAdapterConfig(cfg, { source: "/m.safetensors" } as never, ["blocks.0.attn.qkv", "blocks.0.mlp.fc1"]);
  assert.equal(a.peft_type, "LORA");
  assert.equal(a.r, 4);
  assert.equal(a.lora_alpha, 8);
  assert.deepEqual(a.target_modules, ["blocks.0.attn.qkv", "blocks.0.mlp.fc1"]);
  assert.equal(a.base_model_name_or_path, "/m.safetensors");
  assert.deepEqual(a.modules_to_save, ["head"]);
  const hub = peftAdapterConfig(cfg, { source: `hf:timm/vit_base_patch16_224.augreg_in21k_ft_in1k@${"c".repeat(40)}` } as never, ["blocks.0.attn.qkv"]);
  assert.equal(hub.base_model_name_or_path, "timm/vit_base_patch16_224.augreg_in21k_ft_in1k");
  assert.equal(hub.revision, "c".repeat(40));
  const vit = presetConfig("vit-base", { imgSize: 32, patchSize: 4 });
  const row = (target: string, clean: number, worst: number) => ({ name: `hyperat-${target}`, target, cleanAccuracy: clean, worstCaseRobustAccuracy: worst, warnings: [], result: { n: 1000 } });
  const models = [row("pretrained", 0.95, 0), row("uniform", 0.8, 0.4), row("adaptive", 0.81, 0.4234)];
  const std = robustbenchEntry(cfg, "standard", ["apgd-ce", "apgd-t", "fab-t", "square"], models, vit)!;
  assert.equal(std.autoattack_acc, "42.34");
  assert.equal(std.clean_acc, "81.00");
  assert.equal(std.dataset, "cifar10");
  assert.equal(std.threat_model, "Linf");
  assert.equal(std.eps, "8/255");
  assert.equal(std.additional_data, true);
  assert.equal(std.number_forward_passes, 1);
  assert.equal(std.unreliable, false);
  const quick = robustbenchEntry(cfg, "quick", ["pgd-20", "cw-20"], models, vit)!;
  assert.equal(quick.autoattack_acc, undefined);
  assert.equal(quick.robust_acc, "42.34");
  assert.match(quick.suite, /^quick: pgd-20, cw-20/);
  assert.equal(datasetName("/x/cifar-100-binary"), "cifar100");
});
