// Tiny ViTs and an independent plain-JS reference forward pass, shared by model and train tests.
import * as tf from "@tensorflow/tfjs";
import { ViTConfig, validateConfig, LN_EPS } from "../../../src/core/model/config";
import { ParamMap, paramShapes } from "../../../src/core/model/params";
import { Rng } from "../../../src/core/rng";

/** imgSize 8, patch 4 (4 patches, 5 tokens), width 8, 2 blocks of 2 heads, 3 classes. */
export function tinyConfig(over: Partial<ViTConfig> = {}): ViTConfig {
  return validateConfig({
    imgSize: 8,
    patchSize: 4,
    inChans: 3,
    numClasses: 3,
    dim: 8,
    depth: 2,
    heads: 2,
    mlpDim: 16,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    ...over,
  });
}

/**
 * Parameters with every tensor (biases, LayerNorm, head included) drawn N(0, std²): initParams
 * zeroes the head and biases, which would hide wiring mistakes behind zero logits.
 */
export function randomParams(c: ViTConfig, seed: number, std = 0.5): ParamMap {
  const rng = Rng.fromSeed(seed, "test-params");
  const out: ParamMap = {};
  for (const [name, shape] of paramShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = rng.fillNormal(n, std);
    // LayerNorm gains around 1 keep activations in a sane range.
    if (/norm\d?\.weight$/.test(name)) for (let i = 0; i < n; i++) data[i] += 1;
    out[name] = tf.tensor(data, shape);
  }
  return out;
}

/** n images with seeded uniform pixels in [0,1], `[n, S, S, 3]`. */
export function randomImages(c: ViTConfig, n: number, seed = 7): tf.Tensor4D {
  const rng = Rng.fromSeed(seed, "test-images");
  return tf.tensor4d(rng.fillUniform(n * c.imgSize * c.imgSize * 3, 0, 1), [n, c.imgSize, c.imgSize, 3]);
}

export function randomLabels(n: number, classes: number, seed = 8): tf.Tensor1D {
  const rng = Rng.fromSeed(seed, "test-labels");
  return tf.tensor1d(Array.from({ length: n }, () => rng.int(classes)), "int32");
}

/** Copies of every tensor's values, for before/after comparisons. */
export function snapshot(params: Record<string, tf.Tensor>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(params).map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Bit-exact equality of two float arrays (NaN never equals). */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Plain-JS reference ViT (timm's VisionTransformer, written from the paper/timm, not from vit.ts)

/** erf via Numerical Recipes' erfc Chebyshev fit (|relative error| < 1.2e-7). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

export const geluRef = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));

function layerNormRef(v: number[], g: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const mean = v.reduce((a, x) => a + x, 0) / v.length;
  const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length;
  return v.map((x, i) => ((x - mean) / Math.sqrt(variance + LN_EPS)) * g[i] + b[i]);
}

/** v · W + b with W in engine layout `[d_in, d_out]` (row-major). */
function linearRef(v: number[], w: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const dout = b.length;
  const out = Array.from(b);
  for (let i = 0; i < v.length; i++) for (let j = 0; j < dout; j++) out[j] += v[i] * w[i * dout + j];
  return out;
}

/**
 * Logits for `x` (flat NHWC, batch B) with parameters as flat arrays in engine layout. The patch
 * embedding is timm's Conv2d(kernel = stride = P) written as nested loops over a weight given in
 * timm's `[D, C, P, P]` layout (`convWeight`), so the patchify order is checked independently.
 */
export function referenceForward(c: ViTConfig, p: Record<string, Float32Array>, convWeight: Float32Array, x: Float32Array, B: number): number[][] {
  const { imgSize: S, patchSize: P, dim: D, heads: H } = c;
  const C = 3;
  const g = S / P;
  const Dh = D / H;
  const px = (b: number, i: number, j: number, ch: number) => (x[((b * S + i) * S + j) * C + ch] - c.mean[ch]) / c.std[ch];
  const logits: number[][] = [];
  for (let b = 0; b < B; b++) {
    const pos = (t: number) => Array.from(p["pos_embed"].subarray(t * D, (t + 1) * D));
    let h: number[][] = [Array.from(p["cls_token"]).map((v, d) => v + pos(0)[d])];
    for (let gi = 0; gi < g; gi++) {
      for (let gj = 0; gj < g; gj++) {
        const tok = new Array<number>(D).fill(0);
        for (let d = 0; d < D; d++) {
          let s = p["patch_embed.proj.bias"][d];
          for (let ch = 0; ch < C; ch++) for (let ph = 0; ph < P; ph++) for (let pw = 0; pw < P; pw++) {
            s += convWeight[((d * C + ch) * P + ph) * P + pw] * px(b, gi * P + ph, gj * P + pw, ch);
          }
          tok[d] = s + pos(1 + gi * g + gj)[d];
        }
        h.push(tok);
      }
    }
    for (let l = 0; l < c.depth; l++) {
      const q = (name: string) => p[`blocks.${l}.${name}`];
      const n1 = h.map((v) => layerNormRef(v, q("norm1.weight"), q("norm1.bias")));
      const qkv = n1.map((v) => linearRef(v, q("attn.qkv.weight"), q("attn.qkv.bias")));
      // timm: qkv.reshape(B, T, 3, H, Dh) — columns are [q | k | v], each split into H heads.
      const o = h.map(() => new Array<number>(D).fill(0));
      for (let hh = 0; hh < H; hh++) {
        for (let t = 0; t < h.length; t++) {
          const scores = h.map((_, s) => {
            let dot = 0;
            for (let j = 0; j < Dh; j++) dot += qkv[t][hh * Dh + j] * qkv[s][D + hh * Dh + j];
            return dot / Math.sqrt(Dh);
          });
          const mx = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - mx));
          const z = e.reduce((a, v) => a + v, 0);
          for (let s = 0; s < h.length; s++) for (let j = 0; j < Dh; j++) o[t][hh * Dh + j] += (e[s] / z) * qkv[s][2 * D + hh * Dh + j];
        }
      }
      h = h.map((v, t) => linearRef(o[t], q("attn.proj.weight"), q("attn.proj.bias")).map((y, d) => v[d] + y));
      const n2 = h.map((v) => layerNormRef(v, q("norm2.weight"), q("norm2.bias")));
      h = h.map((v, t) => {
        const hid = linearRef(n2[t], q("mlp.fc1.weight"), q("mlp.fc1.bias")).map(geluRef);
        return linearRef(hid, q("mlp.fc2.weight"), q("mlp.fc2.bias")).map((y, d) => v[d] + y);
      });
    }
    const f = layerNormRef(h[0], p["norm.weight"], p["norm.bias"]);
    logits.push(linearRef(f, p["head.weight"], p["head.bias"]));
  }
  return logits;
}

/** timm's conv kernel `[D, C, P, P]` → the engine's `[C·P·P, D]` (k = (c, ph, pw) row-major). */
export function convToEngine(w: Float32Array, D: number, CPP: number): Float32Array {
  const out = new Float32Array(CPP * D);
  for (let d = 0; d < D; d++) for (let k = 0; k < CPP; k++) out[k * D + d] = w[d * CPP + k];
  return out;
}
