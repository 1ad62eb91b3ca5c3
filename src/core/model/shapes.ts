import { ViTConfig, numTokens } from "./config";

/** The four LoRA-able linear maps of a block, as docs/method.md names them. */
export const MODULE_TYPES = ["qkv", "proj", "fc1", "fc2"] as const;
export type ModuleType = (typeof MODULE_TYPES)[number];

export function modulePath(block: number, m: ModuleType): string {
  return m === "qkv" || m === "proj" ? `blocks.${block}.attn.${m}` : `blocks.${block}.mlp.${m}`;
}

/** [d_in, d_out] of a module type. */
export function moduleDims(c: ViTConfig, m: ModuleType): [number, number] {
  switch (m) {
    case "qkv":
      return [c.dim, 3 * c.dim];
    case "proj":
      return [c.dim, c.dim];
    case "fc1":
      return [c.dim, c.mlpDim];
    case "fc2":
      return [c.mlpDim, c.dim];
  }
}

/** Every parameter name and its engine-layout shape, in a stable order. */
export function paramShapes(c: ViTConfig): Array<[string, number[]]> {
  const D = c.dim;
  const out: Array<[string, number[]]> = [
    ["patch_embed.proj.weight", [c.inChans * c.patchSize * c.patchSize, D]],
    ["patch_embed.proj.bias", [D]],
    ["cls_token", [1, 1, D]],
    ["pos_embed", [1, numTokens(c), D]],
  ];
  for (let i = 0; i < c.depth; i++) {
    out.push([`blocks.${i}.norm1.weight`, [D]], [`blocks.${i}.norm1.bias`, [D]]);
    for (const m of MODULE_TYPES) {
      if (m === "fc1") out.push([`blocks.${i}.norm2.weight`, [D]], [`blocks.${i}.norm2.bias`, [D]]);
      const [din, dout] = moduleDims(c, m);
      out.push([`${modulePath(i, m)}.weight`, [din, dout]], [`${modulePath(i, m)}.bias`, [dout]]);
    }
  }
  out.push(["norm.weight", [D]], ["norm.bias", [D]], ["head.weight", [D, c.numClasses]], ["head.bias", [c.numClasses]]);
  return out;
}
