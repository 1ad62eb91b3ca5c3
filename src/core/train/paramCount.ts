import { RunConfig } from "../config/types";
import { ViTConfig, presetConfig } from "../model/config";
import { moduleDims, paramShapes } from "../model/shapes";

export interface TrainableCount {
  /** Scalars the optimizer updates. */
  trainable: number;
  /** Scalars of the whole backbone (what full fine-tuning would train). */
  backbone: number;
  /** Breakdown for display, e.g. { hypernetwork: …, head: … }. */
  parts: Record<string, number>;
}

/**
 * Trainable parameters of a config, computed from the shapes alone (no tensors): the numbers
 * the README, the demo table and the editor's inline decorations show. Must match what
 * Tunable.vars holds (tested).
 */
export function countTrainableParams(cfg: RunConfig, vit?: ViTConfig, numClasses = cfg.model.numClasses ?? 10): TrainableCount | undefined {
  const c = vit ?? (cfg.model.path ? undefined : presetConfig(cfg.model.preset, { imgSize: cfg.model.imgSize, patchSize: cfg.model.patchSize, numClasses }));
  if (!c) return undefined;
  const backbone = paramShapes(c).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  const head = c.dim * c.numClasses + c.numClasses;
  const r = cfg.lora.rank;
  const M = cfg.lora.targets.length;
  switch (cfg.method) {
    case "full-at":
      return { trainable: backbone, backbone, parts: { backbone } };
    case "lora-at": {
      const lora = c.depth * cfg.lora.targets.reduce((a, m) => a + r * moduleDims(c, m).reduce((x, y) => x + y, 0), 0);
      return { trainable: lora + head, backbone, parts: { lora, head } };
    }
    case "hyperat": {
      const { embedDim: de, hiddenDim: dh, latentDim: dz } = cfg.hypernet;
      const K = cfg.defenses.length;
      const embeddings = (K + c.depth + M) * de;
      const mlp = 3 * de * dh + dh + dh * dz + dz + 2 * dz;
      const heads = cfg.lora.targets.reduce((a, m) => {
        const [din, dout] = moduleDims(c, m);
        return a + (dz + 1) * din * r + (dz + 1) * r * dout;
      }, 0);
      return { trainable: embeddings + mlp + heads + head, backbone, parts: { embeddings, mlp, heads, head } };
    }
  }
}
