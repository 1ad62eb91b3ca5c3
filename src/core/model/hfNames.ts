import { RawTensor } from "./timmLayout";

/**
 * Hugging Face `transformers` ViT names (ViTModel / ViTForImageClassification) → timm names.
 * HF keeps query/key/value as three linears; timm fuses them into `qkv` with rows [q; k; v],
 * each block of D rows head-major in both, so fusing is a row concatenation (timm's own
 * `_convert_hf` conversion does the same).
 */
const BLOCK_MAP: Array<[RegExp, string]> = [
  [/^attention\.output\.dense\.(weight|bias)$/, "attn.proj.$1"],
  [/^intermediate\.dense\.(weight|bias)$/, "mlp.fc1.$1"],
  [/^output\.dense\.(weight|bias)$/, "mlp.fc2.$1"],
  [/^layernorm_before\.(weight|bias)$/, "norm1.$1"],
  [/^layernorm_after\.(weight|bias)$/, "norm2.$1"],
];

const TOP_MAP: Record<string, string> = {
  "embeddings.cls_token": "cls_token",
  "embeddings.position_embeddings": "pos_embed",
  "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
  "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
  "layernorm.weight": "norm.weight",
  "layernorm.bias": "norm.bias",
  "classifier.weight": "head.weight",
  "classifier.bias": "head.bias",
};

/** True when the names look like transformers' ViT rather than timm's. */
export function looksLikeHfVit(names: string[]): boolean {
  return names.some((n) => n.startsWith("vit.embeddings.") || n.startsWith("embeddings.patch_embeddings."));
}

/** Renames (and fuses q/k/v); `notes` says what was ignored. Errors name the file and tensor. */
export function hfToTimm(tensors: Record<string, RawTensor>, where: string): { tensors: Record<string, RawTensor>; notes: string[] } {
  const out: Record<string, RawTensor> = {};
  const notes: string[] = [];
  const qkv: Record<string, Partial<Record<"query" | "key" | "value", RawTensor>>> = {};
  const ignored: string[] = [];
  const unknown: string[] = [];
  for (const [full, t] of Object.entries(tensors)) {
    const name = full.startsWith("vit.") ? full.slice(4) : full;
    if (TOP_MAP[name]) {
      out[TOP_MAP[name]] = t;
      continue;
    }
    if (name.startsWith("pooler.") || name === "embeddings.mask_token") {
      ignored.push(full); // the pooler and the masked-image-modeling token play no part in classification
      continue;
    }
    const m = /^encoder\.layer\.(\d+)\.(.+)$/.exec(name);
    if (!m) {
      unknown.push(full);
      continue;
    }
    const [, i, rest] = m;
    const att = /^attention\.attention\.(query|key|value)\.(weight|bias)$/.exec(rest);
    if (att) {
      const key = `blocks.${i}.attn.qkv.${att[2]}`;
      (qkv[key] ??= {})[att[1] as "query" | "key" | "value"] = t;
      continue;
    }
    const hit = BLOCK_MAP.find(([re]) => re.test(rest));
    if (hit) out[`blocks.${i}.${rest.replace(hit[0], hit[1])}`] = t;
    else unknown.push(full);
  }
  if (unknown.length) {
    throw new Error(`${where}: unrecognised Hugging Face ViT tensors ${unknown.slice(0, 5).map((n) => `"${n}"`).join(", ")}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ""}`);
  }
  for (const [key, parts] of Object.entries(qkv)) {
    const missing = (["query", "key", "value"] as const).filter((p) => !parts[p]);
    if (missing.length) throw new Error(`${where}: "${key}" cannot be fused: missing ${missing.join(", ")}`);
    const q = parts.query!;
    for (const p of ["key", "value"] as const) {
      if (parts[p]!.shape.join(",") !== q.shape.join(",")) {
        throw new Error(`${where}: "${key}": ${p} has shape [${parts[p]!.shape}] but query has [${q.shape}]`);
      }
    }
    const data = new Float32Array(3 * q.data.length);
    data.set(q.data, 0);
    data.set(parts.key!.data, q.data.length);
    data.set(parts.value!.data, 2 * q.data.length);
    out[key] = { shape: [3 * q.shape[0], ...q.shape.slice(1)], data };
  }
  if (ignored.length) notes.push(`ignored ${ignored.length} tensor(s) unused for classification: ${ignored.join(", ")}`);
  notes.push("mapped Hugging Face transformers ViT names to timm names (q/k/v fused into qkv); transformers uses LayerNorm eps 1e-12, the engine 1e-6");
  return { tensors: out, notes };
}
