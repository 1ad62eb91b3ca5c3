import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "./config";
import { paramShapes } from "./shapes";
import { Rng } from "../rng";

/**
 * Model parameters keyed by timm names. Layout note: inside the engine every linear weight is
 * stored as a kernel `[d_in, d_out]` (timm/PyTorch store `[d_out, d_in]`) and the patch
 * embedding as `[C*P*P, D]` (timm: `[D, C, P, P]`), so forward passes use plain matMuls with no
 * transpose flags — the only form wasm runs on its fast XNNPACK path. `timmLayout.ts` converts
 * at the file boundary.
 */
export type ParamMap = Record<string, tf.Tensor>;

// Shapes and names are pure (no tfjs) so the extension host can count parameters without
// bundling TensorFlow.js; they live in shapes.ts and are re-exported here.
export { MODULE_TYPES, modulePath, moduleDims, paramShapes } from "./shapes";
export type { ModuleType } from "./shapes";

function truncNormal(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal();
    while (Math.abs(v) > 2) v = rng.normal();
    out[i] = v * std;
  }
  return out;
}

/**
 * timm-style initialization from a seed: truncated normal (std 0.02) for weights, position
 * embedding and class token; zeros for biases; ones/zeros for LayerNorm; zero head.
 */
export function initParams(c: ViTConfig, seed: number): ParamMap {
  const rng = Rng.fromSeed(seed, "init");
  const params: ParamMap = {};
  for (const [name, shape] of paramShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith(".bias")) data = new Float32Array(n);
    else if (/norm\d?\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (name === "head.weight") data = new Float32Array(n);
    else data = truncNormal(rng, n, 0.02);
    params[name] = tf.tensor(data, shape);
  }
  return params;
}

/** Checks a parameter map has exactly the names and shapes `c` needs; names what is wrong. */
export function checkParams(c: ViTConfig, params: ParamMap, where = "model"): void {
  const expected = paramShapes(c);
  for (const [name, shape] of expected) {
    const t = params[name];
    if (!t) throw new Error(`${where}: missing tensor "${name}" (expected shape [${shape}])`);
    if (t.shape.join(",") !== shape.join(",")) {
      throw new Error(`${where}: tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
    }
  }
  const known = new Set(expected.map(([n]) => n));
  const extra = Object.keys(params).filter((n) => !known.has(n));
  if (extra.length) throw new Error(`${where}: unexpected tensors ${extra.slice(0, 5).map((n) => `"${n}"`).join(", ")}`);
}

export function disposeParams(p: ParamMap): void {
  for (const t of Object.values(p)) t.dispose();
}
