// A small timm-layout ViT as safetensors bytes (zeros, header-correct shapes): what the
// preflight tests need to read a model header without training anything.
import { serializeSafetensors, type TensorToWrite } from "../../src/core/io/safetensors";

export interface TinyTimm {
  dim: number;
  depth: number;
  mlpDim: number;
  patch: number;
  /** Patches per side (imgSize = grid * patch). */
  grid: number;
  classes: number;
}

export function tinyTimmShapes(c: TinyTimm): Record<string, number[]> {
  const D = c.dim;
  const s: Record<string, number[]> = {
    "patch_embed.proj.weight": [D, 3, c.patch, c.patch],
    "patch_embed.proj.bias": [D],
    cls_token: [1, 1, D],
    pos_embed: [1, 1 + c.grid * c.grid, D],
    "norm.weight": [D],
    "norm.bias": [D],
    "head.weight": [c.classes, D],
    "head.bias": [c.classes],
  };
  for (let i = 0; i < c.depth; i++) {
    const b = `blocks.${i}.`;
    Object.assign(s, {
      [`${b}norm1.weight`]: [D],
      [`${b}norm1.bias`]: [D],
      [`${b}attn.qkv.weight`]: [3 * D, D],
      [`${b}attn.qkv.bias`]: [3 * D],
      [`${b}attn.proj.weight`]: [D, D],
      [`${b}attn.proj.bias`]: [D],
      [`${b}norm2.weight`]: [D],
      [`${b}norm2.bias`]: [D],
      [`${b}mlp.fc1.weight`]: [c.mlpDim, D],
      [`${b}mlp.fc1.bias`]: [c.mlpDim],
      [`${b}mlp.fc2.weight`]: [D, c.mlpDim],
      [`${b}mlp.fc2.bias`]: [D],
    });
  }
  return s;
}

export function tinyTimmModel(c: TinyTimm): Uint8Array {
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, shape] of Object.entries(tinyTimmShapes(c))) tensors[name] = { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) };
  return serializeSafetensors(tensors, { num_heads: "2" });
}
