import * as tf from "@tensorflow/tfjs";
import { ViTConfig, LN_EPS } from "./config";
import { ParamMap, ModuleType, modulePath } from "./params";
import { LoraSet } from "./lora";
import { fusedGelu, fusedLayerNorm } from "./fusedOps";
import { fastPathsEnabled } from "../backend/fastPathSwitch";
import { scaledDotAttention, plainScaledDotAttention } from "./attention";
import { checkpointedBlock } from "./checkpointing";

// The switch lives with backend selection (src/core/backend/fastPathSwitch.ts); re-exported for
// the tests and benchmarks that flip it.
export { fastPathsEnabled, setFastPaths } from "../backend/fastPathSwitch";

/** A classifier in [0,1] pixel space: `[B, H, W, 3]` → logits `[B, classes]`. */
export type Classifier = (x: tf.Tensor4D) => tf.Tensor2D;

export interface ForwardOptions {
  /** Low-rank adapters added to the targeted linear maps for this call. */
  lora?: LoraSet;
  /** Activation checkpointing: the backward pass recomputes each block's forward instead of
   * keeping its intermediates (checkpointing.ts; same gradients, ~1/3 more compute). */
  checkpoint?: boolean;
}

/** LayerNorm over the last axis (eps 1e-6 as in timm ViTs). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  if (fastPathsEnabled()) return fusedLayerNorm(x, gamma, beta, LN_EPS);
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))), gamma), beta);
}

/** Exact GELU: x · Φ(x) = 0.5 x (1 + erf(x / √2)), as timm's nn.GELU default. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fastPathsEnabled()) return fusedGelu(x);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** `[N, d_in]` → `[N, d_out]` through a linear map plus its LoRA if one is given. */
function linear(x: tf.Tensor2D, p: ParamMap, path: string, lora?: LoraSet): tf.Tensor2D {
  let y = tf.add(tf.matMul(x, p[`${path}.weight`] as tf.Tensor2D), p[`${path}.bias`]) as tf.Tensor2D;
  const f = lora?.factors[path];
  if (f) y = tf.add(y, tf.mul(tf.matMul(tf.matMul(x, f.a), f.b), lora.scale));
  return y;
}

/** `[B, H, W, C]` pixels → `[B·N, C·P·P]` patches, flattened in timm's (c, ph, pw) order. */
export function patchify(x: tf.Tensor4D, P: number): tf.Tensor2D {
  const [B, H, W, C] = x.shape;
  const gh = H / P;
  const gw = W / P;
  const t = tf.reshape(x, [B, gh, P, gw, P, C]); // [B, gh, ph, gw, pw, C]
  const u = tf.transpose(t, [0, 1, 3, 5, 2, 4]); // [B, gh, gw, C, ph, pw]
  return tf.reshape(u, [B * gh * gw, C * P * P]);
}

/** `[B·T, 3D]` → q, k, v as `[B·H, T, Dh]` each (the reference layout change). */
function splitHeadsPlain(qkv: tf.Tensor2D, B: number, T: number, H: number, Dh: number): tf.Tensor3D[] {
  // Rank-4 transpose only: wasm's rank-5 transpose is ~40x slower.
  const r = tf.transpose(tf.reshape(qkv, [B, T, 3 * H, Dh]), [0, 2, 1, 3]); // [B, 3H, T, Dh]
  return tf.split(r, 3, 1).map((t) => tf.reshape(t, [B * H, T, Dh]) as tf.Tensor3D);
}

/**
 * The same result without a strided split: wasm's SplitV/Slice along an inner axis is a scalar
 * strided copy (~5x a transpose of the same tensor), so q/k/v are moved to the leading axis first,
 * where the split is three contiguous copies (and its gradient a contiguous concat).
 */
function splitHeadsFast(qkv: tf.Tensor2D, B: number, T: number, H: number, Dh: number): tf.Tensor3D[] {
  const lead = tf.transpose(tf.reshape(qkv, [B, T, 3, H * Dh]), [2, 0, 1, 3]); // [3, B, T, D]
  return tf.split(lead, 3, 0).map(
    (t) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, Dh]), [0, 2, 1, 3]), [B * H, T, Dh]) as tf.Tensor3D, // [B·H, T, Dh]
  );
}

function attention(x: tf.Tensor2D, c: ViTConfig, p: ParamMap, i: number, B: number, T: number, lora?: LoraSet) {
  const H = c.heads;
  const Dh = c.dim / H;
  const qkv = linear(x, p, modulePath(i, "qkv"), lora); // [B·T, 3D]
  const fast = fastPathsEnabled();
  const [q, k, v] = fast ? splitHeadsFast(qkv, B, T, H, Dh) : splitHeadsPlain(qkv, B, T, H, Dh);
  const o = (fast ? scaledDotAttention : plainScaledDotAttention)(q, k, v); // [B·H, T, Dh]
  const merged = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, Dh]), [0, 2, 1, 3]), [B * T, c.dim]);
  return linear(merged as tf.Tensor2D, p, modulePath(i, "proj"), lora);
}

function mlp(x: tf.Tensor2D, p: ParamMap, i: number, lora?: LoraSet): tf.Tensor2D {
  const h = gelu(linear(x, p, modulePath(i, "fc1" as ModuleType), lora)) as tf.Tensor2D;
  return linear(h, p, modulePath(i, "fc2" as ModuleType), lora);
}

/** Block i of the pre-norm ViT: `x + Attn(LN(x))`, then `x + MLP(LN(x))` on `[B·T, D]`. */
export function block(c: ViTConfig, p: ParamMap, i: number, B: number, T: number, x: tf.Tensor2D, lora?: LoraSet): tf.Tensor2D {
  const n1 = layerNorm(x, p[`blocks.${i}.norm1.weight`], p[`blocks.${i}.norm1.bias`]) as tf.Tensor2D;
  const h = tf.add(x, attention(n1, c, p, i, B, T, lora)) as tf.Tensor2D;
  const n2 = layerNorm(h, p[`blocks.${i}.norm2.weight`], p[`blocks.${i}.norm2.bias`]) as tf.Tensor2D;
  return tf.add(h, mlp(n2, p, i, lora)) as tf.Tensor2D;
}

/** Token features before the head: `[B, H, W, 3]` → normalized class-token features `[B, D]`. */
export function features(c: ViTConfig, p: ParamMap, x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  const [B, Hh, Ww, C] = x.shape;
  if (Hh !== c.imgSize || Ww !== c.imgSize || C !== c.inChans) {
    throw new Error(`model expects input [B, ${c.imgSize}, ${c.imgSize}, ${c.inChans}], got [${x.shape}]`);
  }
  const lora = opts.lora;
  const T = (c.imgSize / c.patchSize) ** 2 + 1;
  const xn = tf.div(tf.sub(x, tf.tensor1d(c.mean)), tf.tensor1d(c.std)) as tf.Tensor4D;
  const patches = tf.add(
    tf.matMul(patchify(xn, c.patchSize), p["patch_embed.proj.weight"] as tf.Tensor2D),
    p["patch_embed.proj.bias"],
  );
  const cls = tf.add(tf.zeros([B, 1, c.dim]), p["cls_token"]);
  const tokens = tf.concat([cls, tf.reshape(patches, [B, T - 1, c.dim])], 1);
  let h = tf.reshape(tf.add(tokens, p["pos_embed"]), [B * T, c.dim]) as tf.Tensor2D; // [B·T, D]
  for (let i = 0; i < c.depth; i++) h = opts.checkpoint ? checkpointedBlock(c, p, i, B, T, h, lora) : block(c, p, i, B, T, h, lora);
  const clsTok = tf.reshape(tf.slice(tf.reshape(h, [B, T, c.dim]), [0, 0, 0], [B, 1, c.dim]), [B, c.dim]);
  return layerNorm(clsTok, p["norm.weight"], p["norm.bias"]) as tf.Tensor2D;
}

/** Logits `[B, classes]` for pixels `[B, H, W, 3]` in [0,1]. Call inside tf.tidy. */
export function forward(c: ViTConfig, p: ParamMap, x: tf.Tensor4D, opts: ForwardOptions = {}): tf.Tensor2D {
  const f = features(c, p, x, opts);
  return tf.add(tf.matMul(f, p["head.weight"] as tf.Tensor2D), p["head.bias"]) as tf.Tensor2D;
}

/** Binds a model to a `Classifier` for attacks and evaluation. */
export function classifier(c: ViTConfig, p: ParamMap, opts: ForwardOptions = {}): Classifier {
  return (x) => forward(c, p, x, opts);
}
