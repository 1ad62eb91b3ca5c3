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
