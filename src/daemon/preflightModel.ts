import { readSafetensorsHeaderFile } from "../core/io/safetensorsHeaderFile";

/**
 * A `model.path` checked from its safetensors header alone (8 bytes of length, then the JSON):
 * a directory, a FIFO, a text file or a truncated file is refused before a run folder exists,
 * and the widths the LoRA rank bound needs come without reading the weights (a ViT-L file is
 * 1.2 GB). Names are timm's or Hugging Face transformers' (src/core/model/hfNames.ts).
 */
export interface ModelFacts {
  /** Embedding width D. */
  dim: number;
  /** MLP hidden width. */
  mlpDim: number;
  depth: number;
  patchSize: number;
  /** Elements over all tensors of the file. */
  parameters: number;
  tensors: number;
}

/** Reads only the header of a safetensors file; throws naming the file (the caller adds the JSON path). */
export const readModelHeader = readSafetensorsHeaderFile;

/** The first tensor whose name, without a `vit.` prefix, is one of `names`. */
function find(tensors: Record<string, { shape: number[] }>, names: string[]): { name: string; shape: number[] } | undefined {
  for (const [name, t] of Object.entries(tensors)) {
    if (names.includes(name.replace(/^vit\./, ""))) return { name, shape: t.shape };
  }
  return undefined;
}

/** Widths of a ViT from its header's shapes; an error names the tensor that is missing or odd. */
export function modelFactsFromHeader(tensors: Record<string, { shape: number[] }>, file: string): ModelFacts {
  const patch = find(tensors, ["patch_embed.proj.weight", "embeddings.patch_embeddings.projection.weight"]);
  if (!patch) throw new Error(`${file}: no patch embedding tensor ("patch_embed.proj.weight" in timm naming); not a ViT checkpoint`);
  if (patch.shape.length !== 4 || patch.shape[2] !== patch.shape[3]) {
    throw new Error(`${file}: tensor "${patch.name}" has shape [${patch.shape}], expected [D, 3, P, P]`);
  }
  const fc1 = find(tensors, ["blocks.0.mlp.fc1.weight", "encoder.layer.0.intermediate.dense.weight"]);
  if (!fc1 || fc1.shape.length !== 2) throw new Error(`${file}: no first-block MLP tensor ("blocks.0.mlp.fc1.weight" in timm naming) of rank 2`);
  const blocks = new Set<string>();
  for (const name of Object.keys(tensors)) {
    const m = /(?:^|\.)(?:blocks|encoder\.layer)\.(\d+)\./.exec(name);
    if (m) blocks.add(m[1]);
  }
  let parameters = 0;
  for (const t of Object.values(tensors)) parameters += t.shape.reduce((a, b) => a * b, 1);
  return { dim: patch.shape[0], mlpDim: fc1.shape[0], depth: blocks.size, patchSize: patch.shape[2], parameters, tensors: Object.keys(tensors).length };
}
