import * as fs from "node:fs/promises";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { RunConfig } from "../../core/config/types";
import { ViTConfig, presetConfig } from "../../core/model/config";
import { ParamMap, initParams, disposeParams } from "../../core/model/params";
import { loadModelFile, saveModelFile } from "../../core/model/modelFile";
import { loadModelSpec } from "../../core/model/modelSource";
import { pretrainClean } from "../../core/train/pretrain";
import { Dataset } from "../../core/data/types";
import { Batcher } from "../../core/data/batcher";
import { activeBackend } from "../../core/backend/select";
import { resolveWorkers } from "../parallel/workerCount";
import { pretrainCleanParallel } from "../parallel/pretrainParallel";
import { assertWritableDir } from "../../core/io/dirs";

export interface Backbone {
  vit: ViTConfig;
  /** Frozen pretrained weights, head included (engine layout). */
  params: ParamMap;
  /** Where they came from: a file, the pretrain cache, or "random init". */
  source: string;
  notes: string[];
}

export interface BackboneProgress {
  (p: { title: string; step: number; total: number; loss?: number }): void;
}

/** Hash of everything the pretrained weights depend on, the training data's bytes included
 * (a changed generator or file must not hit a stale cache). */
function pretrainKey(cfg: RunConfig, vit: ViTConfig, train: Dataset): string {
  const key = JSON.stringify({ vit, pretrain: { ...cfg.model.pretrain, cacheDir: undefined }, augment: cfg.data.augment, seed: cfg.seed, data: dataHash(train) });
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/** Datasets are loaded once per process (engine.ts) and every session, merge and evaluation
 * asks for the cache key: hash each one's bytes (~250 MB for the demo's) once. */
const dataHashes = new WeakMap<Dataset, string>();

function dataHash(ds: Dataset): string {
  let h = dataHashes.get(ds);
  if (!h) {
    const sha = createHash("sha256");
    // uint8 pixels (image folders) hash with a tag, so they never collide with float32 bytes.
    if (ds.images instanceof Uint8Array) sha.update("uint8 pixels\u0000");
    sha.update(new Uint8Array(ds.images.buffer, ds.images.byteOffset, ds.images.byteLength));
    sha.update(new Uint8Array(ds.labels.buffer, ds.labels.byteOffset, ds.labels.byteLength));
    h = sha.digest("hex");
    dataHashes.set(ds, h);
  }
  return h;
}

/** Path of the cached clean-pretrained model for this config (presets with `model.pretrain`). */
export function pretrainCachePath(cfg: RunConfig, vit: ViTConfig, train: Dataset): string | undefined {
  const p = cfg.model.pretrain;
  if (!p || cfg.model.path) return undefined;
  return path.join(p.cacheDir ?? path.join(".hyperat", "cache"), `pretrained-${cfg.model.preset}-${pretrainKey(cfg, vit, train)}.safetensors`);
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/**
 * The frozen backbone of a run: a safetensors checkpoint (resized and re-headed as the config
 * asks), or a preset clean-pretrained on the training data (cached by a hash of everything that
 * affects it, so the demo pays for it once).
 */
export async function resolveBackbone(cfg: RunConfig, train: Dataset, onProgress?: BackboneProgress): Promise<Backbone> {
  const numClasses = cfg.model.numClasses ?? train.numClasses;
  if (cfg.model.path) {
    // A file, a timm local-dir (config.json beside the weights) or a cached hf: id.
    const loaded = await loadModelSpec(cfg.model.path, {
      imgSize: cfg.model.imgSize,
      patchSize: cfg.model.patchSize,
      numClasses,
      heads: cfg.model.heads,
      mean: cfg.model.mean,
      std: cfg.model.std,
      allowNonFinite: cfg.model.allowNonFinite,
    });
    return { vit: loaded.config, params: loaded.params, source: cfg.model.path, notes: loaded.notes };
  }
  const vit = presetConfig(cfg.model.preset, {
    imgSize: cfg.model.imgSize,
    patchSize: cfg.model.patchSize,
    numClasses,
    mean: cfg.model.mean,
    std: cfg.model.std,
  });
  const cache = pretrainCachePath(cfg, vit, train);
  if (!cache) {
    return { vit, params: initParams(vit, cfg.seed), source: "random init", notes: ["no model.path and no model.pretrain: tuning a randomly initialized ViT"] };
  }
  if (await exists(cache)) {
    const loaded = await loadModelFile(cache);
    return { vit: loaded.config, params: loaded.params, source: cache, notes: ["clean-pretrained model from cache"] };
  }
  const p = cfg.model.pretrain!;
  // Pretraining's only output is the cache file: an unwritable folder must fail now, not after it.
  await assertWritableDir(path.dirname(cache), "model.pretrain.cacheDir");
  const init = initParams(vit, cfg.seed);
  const batcher = new Batcher(train, { batchSize: p.batchSize, seed: cfg.seed, augment: cfg.data.augment, stream: "pretrain-data" });
  const t0 = Date.now();
  const workers = resolveWorkers(cfg.training.workers ?? 1, activeBackend()?.backend);
  const args = {
    vit,
    init,
    steps: p.steps,
    lr: p.lr,
    nextBatch: () => {
      const b = batcher.nextBatch();
      return { x: b.x, y: b.y };
    },
    onStep: (step: number, loss: number) => onProgress?.({ title: "clean pretraining", step, total: p.steps, loss }),
  };
  // training.workers > 1 uses the other cores here too (same result up to float reassociation).
  const params = workers > 1 ? await pretrainCleanParallel(args, { workers, backend: activeBackend()?.backend ?? cfg.backend }) : await pretrainClean(args);
  disposeParams(init);
  await saveModelFile(cache, vit, params, {
    provenance: `clean-pretrained ${cfg.model.preset} on ${cfg.data.train}, ${p.steps} steps, lr ${p.lr}, seed ${cfg.seed}`,
    seconds: ((Date.now() - t0) / 1000).toFixed(1),
  });
  return { vit, params, source: cache, notes: [`clean-pretrained for ${p.steps} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s and cached`] };
}
