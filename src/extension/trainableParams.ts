// Trainable vs total parameter counts of a config, for the config decorations. The same numbers
// as src/core/train/paramCount.ts (test/extension/trainableParams.test.ts checks they agree), but
// computed without importing src/core/model/params.ts, which would pull TensorFlow.js into the
// extension host's bundle just to multiply shapes.
import { PRESETS } from "../core/model/config";
import type { RunConfig } from "../core/config/types";

type Dims = { D: number; L: number; mlp: number; P: number; img: number; C: number };

function dims(cfg: RunConfig): Dims | undefined {
  if (cfg.model.path) return undefined; // architecture is inferred from the file's tensors
  const preset = PRESETS[cfg.model.preset];
  if (!preset) return undefined;
  const P = cfg.model.patchSize ?? (cfg.model.preset === "vit-micro" ? 8 : 4);
  // Class count defaults to the training data's; the built-in sets have 10 (shapes10, CIFAR-10) or 100.
  const C = cfg.model.numClasses ?? (/cifar-?100/i.test(cfg.data.train) ? 100 : 10);
  return { D: preset.dim, L: preset.depth, mlp: preset.mlpDim, P, img: cfg.model.imgSize, C };
}

const MODULE_DIMS: Record<string, (d: Dims) => [number, number]> = {
  qkv: (d) => [d.D, 3 * d.D],
  proj: (d) => [d.D, d.D],
  fc1: (d) => [d.D, d.mlp],
  fc2: (d) => [d.mlp, d.D],
};

/** timm ViT parameter count (patch embed, class token, position embedding, blocks, norm, head). */
export function backboneParams(d: Dims): number {
  const tokens = (d.img / d.P) ** 2 + 1;
  const block = 4 * d.D + (d.D * 3 * d.D + 3 * d.D) + (d.D * d.D + d.D) + (d.D * d.mlp + d.mlp) + (d.mlp * d.D + d.D);
  return 3 * d.P * d.P * d.D + d.D + d.D + tokens * d.D + d.L * block + 2 * d.D + (d.D * d.C + d.C);
}

/** Hypernetwork: embeddings, MLP, LayerNorm, one A and one B head per module type (Lv et al.). */
export function hypernetParams(cfg: RunConfig, d: Dims): number {
  const { embedDim: de, hiddenDim: dh, latentDim: dz } = cfg.hypernet;
  const r = cfg.lora.rank;
  const K = cfg.defenses.length;
  const M = cfg.lora.targets.length;
  let n = (K + d.L + M) * de + (3 * de * dh + dh) + (dh * dz + dz) + 2 * dz;
  for (const m of cfg.lora.targets) {
    const [din, dout] = MODULE_DIMS[m](d);
    n += dz * din * r + din * r + dz * r * dout + r * dout;
  }
  return n;
}

export function loraParams(cfg: RunConfig, d: Dims): number {
  const r = cfg.lora.rank;
  return d.L * cfg.lora.targets.reduce((s, m) => s + r * MODULE_DIMS[m](d).reduce((a, b) => a + b, 0), 0);
}

/** undefined when the architecture comes from a file (unknown until it is read). */
export function countTrainable(cfg: RunConfig): { trainableParams: number; totalParams: number } | undefined {
  const d = dims(cfg);
  if (!d) return undefined;
  const total = backboneParams(d);
  const head = d.D * d.C + d.C;
  const trainable = cfg.method === "hyperat" ? hypernetParams(cfg, d) + head : cfg.method === "lora-at" ? loraParams(cfg, d) + head : total;
  return { trainableParams: trainable, totalParams: total };
}
