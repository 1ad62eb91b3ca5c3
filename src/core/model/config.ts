/** Architecture of a pre-norm ViT (timm `VisionTransformer` with a class token). */
export interface ViTConfig {
  /** Square input side in pixels. */
  imgSize: number;
  /** Square patch side; imgSize must be divisible by it. */
  patchSize: number;
  /** Input channels (RGB). */
  inChans: number;
  numClasses: number;
  /** Embedding width D. */
  dim: number;
  /** Number of transformer blocks L. */
  depth: number;
  /** Attention heads; dim must be divisible by it. */
  heads: number;
  /** MLP hidden width (timm: dim * mlp_ratio, 4 by default). */
  mlpDim: number;
  /** Per-channel normalization applied inside the model, so inputs stay in [0,1] pixel space. */
  mean: [number, number, number];
  std: [number, number, number];
}

export const LN_EPS = 1e-6;
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
/** timm's augreg ViTs (the common pretrained checkpoints) normalize with 0.5/0.5. */
export const HALF: [number, number, number] = [0.5, 0.5, 0.5];

type Shape = Pick<ViTConfig, "dim" | "depth" | "heads" | "mlpDim">;

/** timm's widths/depths/heads; `vit-micro` is ours, small enough to train on 2 CPU cores. */
export const PRESETS: Record<string, Shape> = {
  "vit-micro": { dim: 64, depth: 4, heads: 4, mlpDim: 128 },
  "vit-tiny": { dim: 192, depth: 12, heads: 3, mlpDim: 768 },
  "vit-small": { dim: 384, depth: 12, heads: 6, mlpDim: 1536 },
  "vit-base": { dim: 768, depth: 12, heads: 12, mlpDim: 3072 },
  "vit-large": { dim: 1024, depth: 24, heads: 16, mlpDim: 4096 },
};

export type PresetName = keyof typeof PRESETS;

export function presetConfig(
  name: string,
  over: Partial<Omit<ViTConfig, "dim" | "depth" | "heads" | "mlpDim">> = {},
): ViTConfig {
  const shape = PRESETS[name];
  if (!shape) throw new Error(`unknown model preset "${name}"; known: ${Object.keys(PRESETS).join(", ")}`);
  return validateConfig({
    imgSize: over.imgSize ?? 32,
    patchSize: over.patchSize ?? (name === "vit-micro" ? 8 : 4),
    inChans: over.inChans ?? 3,
    numClasses: over.numClasses ?? 10,
    mean: over.mean ?? HALF,
    std: over.std ?? HALF,
    ...shape,
  });
}

export function numPatches(c: ViTConfig): number {
  return (c.imgSize / c.patchSize) ** 2;
}

/** Tokens including the class token. */
export function numTokens(c: ViTConfig): number {
  return numPatches(c) + 1;
}

export function validateConfig(c: ViTConfig): ViTConfig {
  const bad = (m: string) => {
    throw new Error(`invalid ViT config: ${m}`);
  };
  for (const k of ["imgSize", "patchSize", "inChans", "numClasses", "dim", "depth", "heads", "mlpDim"] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad(`${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.imgSize % c.patchSize !== 0) bad(`imgSize ${c.imgSize} is not divisible by patchSize ${c.patchSize}`);
  if (c.dim % c.heads !== 0) bad(`dim ${c.dim} is not divisible by heads ${c.heads}`);
  if (c.inChans !== 3) bad(`inChans must be 3 (RGB), got ${c.inChans}`);
  if (c.std.some((s) => !(s > 0))) bad(`std must be positive, got [${c.std.join(", ")}]`);
  return c;
}
