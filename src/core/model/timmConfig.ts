import { ViTConfig, PRESETS, validateConfig } from "./config";

/**
 * timm's `config.json` for a model folder (what `timm.create_model("local-dir:<folder>")` and
 * `hf-hub:` read; timm `_hub.py` load_model_config_from_hf): `architecture` names a registered
 * model, `model_args` override its defaults, `pretrained_cfg` carries the preprocessing. Our ViT
 * is timm's `VisionTransformer` with a class token, token pooling, qkv bias and LayerNorm eps
 * 1e-6 (docs/model-files.md), so `timm.create_model(architecture, **model_args)` rebuilds it.
 */
export interface TimmConfig {
  architecture: string;
  num_classes: number;
  num_features: number;
  global_pool: "token";
  model_args: {
    img_size: number;
    patch_size: number;
    in_chans: number;
    num_classes: number;
    embed_dim: number;
    depth: number;
    num_heads: number;
    mlp_ratio: number;
    qkv_bias: true;
    class_token: true;
    global_pool: "token";
  };
  pretrained_cfg: {
    input_size: [number, number, number];
    fixed_input_size: true;
    interpolation: "bicubic";
    crop_pct: 1;
    mean: [number, number, number];
    std: [number, number, number];
    num_classes: number;
    first_conv: "patch_embed.proj";
    classifier: "head";
  };
  /** Class names by index (timm keeps them in the pretrained config as `label_names`). */
  label_names?: string[];
}

/** timm's ViT family names for the standard widths/depths/heads (their `patch16_224` entry points). */
const TIMM_NAMES: Array<{ preset: string; name: string }> = [
  { preset: "vit-tiny", name: "vit_tiny_patch16_224" },
  { preset: "vit-small", name: "vit_small_patch16_224" },
  { preset: "vit-base", name: "vit_base_patch16_224" },
  { preset: "vit-large", name: "vit_large_patch16_224" },
];

/**
 * The registered timm model closest in shape (width first, then depth, then heads). model_args
 * override every structural default, so the name only picks the family entry point; an exact
 * match tells a reader the model is a standard size.
 */
export function nearestTimmArchitecture(c: Pick<ViTConfig, "dim" | "depth" | "heads">): string {
  let best = TIMM_NAMES[0];
  let bestKey = [Infinity, Infinity, Infinity];
  for (const t of TIMM_NAMES) {
    const s = PRESETS[t.preset];
    const key = [Math.abs(Math.log(s.dim / c.dim)), Math.abs(s.depth - c.depth), Math.abs(s.heads - c.heads)];
    if (key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
      best = t;
      bestKey = key;
    }
  }
  return best.name;
}

export function timmConfig(c: ViTConfig, labelNames?: string[]): TimmConfig {
  return {
    architecture: nearestTimmArchitecture(c),
    num_classes: c.numClasses,
    num_features: c.dim,
    global_pool: "token",
    model_args: {
      img_size: c.imgSize,
      patch_size: c.patchSize,
      in_chans: c.inChans,
      num_classes: c.numClasses,
      embed_dim: c.dim,
      depth: c.depth,
      num_heads: c.heads,
      mlp_ratio: c.mlpDim / c.dim,
      qkv_bias: true,
      class_token: true,
      global_pool: "token",
    },
    pretrained_cfg: {
      input_size: [c.inChans, c.imgSize, c.imgSize],
      fixed_input_size: true,
      interpolation: "bicubic",
      crop_pct: 1,
      mean: [...c.mean],
      std: [...c.std],
      num_classes: c.numClasses,
      first_conv: "patch_embed.proj",
      classifier: "head",
    },
    ...(labelNames && labelNames.length === c.numClasses ? { label_names: [...labelNames] } : {}),
  };
}

/**
 * The ViTConfig a timm config.json describes; throws naming `where` and the field when it
 * describes something HyperAT's ViT is not (mean pooling, no class token, non-square input).
 */
export function vitFromTimmConfig(doc: unknown, where: string): ViTConfig {
  const bad = (field: string, m: string): never => {
    throw new Error(`${where}: ${field} ${m}`);
  };
  if (doc === null || typeof doc !== "object") bad("", "is not a JSON object");
  const d = doc as Partial<TimmConfig> & Record<string, unknown>;
  const a = (d.model_args ?? {}) as Partial<TimmConfig["model_args"]>;
  const p = (d.pretrained_cfg ?? {}) as Partial<TimmConfig["pretrained_cfg"]>;
  const num = (v: unknown, field: string): number => (typeof v === "number" && Number.isFinite(v) ? v : bad(field, `must be a number, got ${JSON.stringify(v)}`));
  if ((a.global_pool ?? d.global_pool ?? "token") !== "token") bad("model_args.global_pool", `"${String(a.global_pool ?? d.global_pool)}" is not supported (HyperAT's ViT pools the class token)`);
  if ((a.class_token as unknown) === false) bad("model_args.class_token", "false is not supported (HyperAT's ViT has a class token)");
  const dim = num(a.embed_dim, "model_args.embed_dim");
  const triple = (v: unknown, field: string): [number, number, number] =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number") ? [v[0], v[1], v[2]] : bad(field, `must be 3 numbers, got ${JSON.stringify(v)}`);
  return validateConfig({
    imgSize: num(a.img_size ?? p.input_size?.[2], "model_args.img_size"),
    patchSize: num(a.patch_size, "model_args.patch_size"),
    inChans: a.in_chans ?? 3,
    numClasses: num(a.num_classes ?? d.num_classes, "num_classes"),
    dim,
    depth: num(a.depth, "model_args.depth"),
    heads: num(a.num_heads, "model_args.num_heads"),
    mlpDim: Math.round(dim * num(a.mlp_ratio ?? 4, "model_args.mlp_ratio")),
    mean: triple(p.mean, "pretrained_cfg.mean"),
    std: triple(p.std, "pretrained_cfg.std"),
  });
}

/**
 * What a `config.json` beside the weights says about them, leniently: HyperAT's own exports carry
 * `model_args`, while timm's Hub configs (e.g. timm/vit_base_patch16_224.augreg_in21k_ft_in1k)
 * carry only `architecture`, `num_classes` and `pretrained_cfg`. Tensor shapes stay the source
 * of truth for the architecture; these hints fill what shapes cannot tell (heads, normalization)
 * and are checked against the shapes (checkpoint.ts), so a config.json of another model is caught.
 */
export interface ModelHints {
  /** The file the hints came from, for messages. */
  where: string;
  heads?: number;
  dim?: number;
  depth?: number;
  patchSize?: number;
  numClasses?: number;
  mean?: [number, number, number];
  std?: [number, number, number];
}

/**
 * timm's ViT families (vision_transformer.py): width and heads; huge and giant are not at head
 * dim 64. Used only when the config names no `num_heads` and its width is the family's.
 */
const TIMM_FAMILIES: Array<[RegExp, number, number]> = [
  [/^vit_tiny_/, 192, 3],
  [/^vit_small_/, 384, 6],
  [/^vit_base_/, 768, 12],
  [/^vit_large_/, 1024, 16],
  [/^vit_huge_/, 1280, 16],
  [/^vit_giant_/, 1408, 16],
];

export function hintsFromTimmConfig(doc: unknown, where: string): ModelHints {
  const bad = (field: string, m: string): never => {
    throw new Error(`${where}: ${field ? `${field} ` : ""}${m}`);
  };
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) bad("", "is not a JSON object");
  const d = doc as Record<string, unknown>;
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    v === undefined ? {} : v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : bad(field, `must be an object, got ${JSON.stringify(v)}`);
  const a = obj(d.model_args, "model_args");
  const p = obj(d.pretrained_cfg, "pretrained_cfg");
  const int = (v: unknown, field: string): number | undefined =>
    v === undefined || v === null ? undefined : Number.isInteger(v) && (v as number) > 0 ? (v as number) : bad(field, `must be a positive integer, got ${JSON.stringify(v)}`);
  const triple = (v: unknown, field: string): [number, number, number] | undefined =>
    v === undefined ? undefined : Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "number" && Number.isFinite(x)) ? [v[0], v[1], v[2]] : bad(field, `must be 3 numbers, got ${JSON.stringify(v)}`);
  const pool = a.global_pool ?? d.global_pool ?? "token";
  if (pool !== "token") bad(a.global_pool !== undefined ? "model_args.global_pool" : "global_pool", `"${String(pool)}" is not supported (HyperAT's ViT pools the class token)`);
  if (a.class_token === false) bad("model_args.class_token", "false is not supported (HyperAT's ViT has a class token)");
  const arch = typeof d.architecture === "string" ? d.architecture : "";
  const archPatch = /_patch(\d+)_/.exec(arch)?.[1];
  const dim = int(a.embed_dim, "model_args.embed_dim") ?? int(d.num_features, "num_features");
  const family = TIMM_FAMILIES.find(([re, width]) => re.test(arch) && (dim === undefined || dim === width));
  return {
    where,
    heads: int(a.num_heads, "model_args.num_heads") ?? family?.[2],
    dim,
    depth: int(a.depth, "model_args.depth"),
    patchSize: int(a.patch_size, "model_args.patch_size") ?? (archPatch ? Number(archPatch) : undefined),
    numClasses: int(a.num_classes ?? d.num_classes ?? p.num_classes, "num_classes"),
    mean: triple(p.mean, "pretrained_cfg.mean"),
    std: triple(p.std, "pretrained_cfg.std"),
  };
}
