import * as tf from "@tensorflow/tfjs";
import { ParamMap } from "../model/params";
import { deltaW, LoraFactors, LoraSet } from "../model/lora";
import { readScalar } from "../tensorRead";

/**
 * The merge: W0 + Σ_t λ[t][l] · ΔW_t for every adapted module (docs/method.md, "merging into
 * one model"). Every path that adds a ΔW to a frozen weight goes through `foldModules`; a run's
 * merge goes through `mergeWeights`, which checks shapes and finiteness first and names the
 * defense, the tensor and its shape when one is wrong (PEFT's `safe_merge` checks the same).
 */

/** Each defense's LoRA factors, keyed by defense name (adapters are keyed by name, as in PEFT).
 * The merge keeps the factors and forms each ΔW = (alpha/r)·a·b only inside its own module's
 * fold: K materialized ΔW of a ViT-B were ~0.97 GiB the wasm heap could not spare (docs/memory.md). */
export type DefenseAdapters = Record<string, LoraSet>;

/** λ per defense name, one coefficient per block. */
export type DefenseLambdas = Record<string, number[]>;

/** λ[t][l] as nested numbers `[K][L]`, or a differentiable `[K, L]` tensor (the λ tape). */
export type Lambdas = number[][] | tf.Tensor2D;

/** Block index of a module path like "blocks.3.attn.qkv". */
export function blockOf(path: string): number {
  const m = /^blocks\.(\d+)\./.exec(path);
  if (!m) throw new Error(`not a block module path: "${path}"`);
  return Number(m[1]);
}

/** λ = 1/K everywhere: the average of the *products* ΔW_t, not of A and B separately. */
export function uniformLambdas(K: number, L: number): number[][] {
  return Array.from({ length: K }, () => new Array<number>(L).fill(1 / K));
}

/**
 * W0 + Σ terms(path) for each module path, one module at a time: each module's terms die in its
 * own tidy, so the peak is the merged copy plus one module's terms, not every ΔW at once (the
 * copies that exhausted the wasm heap, docs/memory.md). Works on a gradient tape too (tidy keeps
 * what the tape saved). The inputs are untouched, so a merge is reversible; new tensors only for
 * the adapted weights.
 */
export function foldModules(params: ParamMap, paths: readonly string[], terms: (path: string) => tf.Tensor[]): ParamMap {
  const out: ParamMap = { ...params };
  for (const p of paths) {
    const name = `${p}.weight`;
    out[name] = tf.tidy(() => {
      const ts = terms(p);
      return tf.add(params[name], ts.length === 1 ? ts[0] : tf.addN(ts));
    });
  }
  return out;
}

/** c · ΔW of one module, ΔW formed as `deltaW` forms it (c = 1 skips the product: same bits). */
export function scaledDelta(f: LoraFactors, scale: number, c: number): tf.Tensor2D {
  return c === 1 ? deltaW(f, scale) : (tf.mul(deltaW(f, scale), c) as tf.Tensor2D);
}

/**
 * W0 + Σ_t λ[t][l] · ΔW_t from each defense's factors, through `foldModules`: the products
 * λ · ((alpha/r)·a·b) the materialized merge formed, in its order. λ as a `[K, L]` tensor is the
 * adaptive merge's tape (`foldOnTape`); the same λ as numbers gives the same bits.
 */
export function foldAdapters(params: ParamMap, loras: LoraSet[], lambdas: Lambdas): ParamMap {
  const paths = Object.keys(loras[0]?.factors ?? {});
  if (!Array.isArray(lambdas)) return foldOnTape(params, loras, paths, lambdas);
  return foldModules(params, paths, (p) => loras.map((l, t) => scaledDelta(l.factors[p], l.scale, lambdas[t][blockOf(p)])));
}

/**
 * The λ tape's fold: each module's W0 + Σ_t λ_t·ΔW_t is one op with its own gradient. On a tape,
 * tfjs's Add keeps both operands and AddN all K for the backward (tfjs-core gradients/Add_grad,
 * AddN_grad), so the plain fold kept K + 1 weight-sized tensors per module alive until the
 * backward ended: ~1.3 GiB for ViT-B with 3 defenses, measured in docs/memory.md. This op keeps
 * nothing: its forward is `foldModules` with the tape off, and its backward needs only the
 * factors the merge holds anyway (never a ΔW):
 *   ∂L/∂λ_t = Σ_ij dW_ij · (s·a_t·b_t)_ij = s · Σ (a_tᵀ dW) ⊙ b_t   (a_tᵀ dW is r × d_out).
 * What the tape keeps is the merged weight (the forward's matMul saves it) and, in the
 * backward, its gradient dW.
 */
function foldOnTape(params: ParamMap, loras: LoraSet[], paths: string[], lambdas: tf.Tensor2D): ParamMap {
  const out: ParamMap = { ...params };
  const K = loras.length;
  for (const p of paths) {
    const name = `${p}.weight`;
    out[name] = tf.tidy(() => {
      const fold = tf.customGrad((c) => ({
        value: foldModules(params, [p], () => loras.map((l, t) => tf.mul(deltaW(l.factors[p], l.scale), tf.reshape(tf.slice(c as tf.Tensor, [t], [1]), []))))[name],
        gradFunc: (dW: tf.Tensor) => [tf.stack(loras.map((l) => tf.mul(tf.sum(tf.mul(tf.matMul(l.factors[p].a, dW as tf.Tensor2D, true, false), l.factors[p].b)), l.scale)))],
      }));
      return fold(tf.reshape(tf.slice(lambdas, [0, blockOf(p)], [K, 1]), [K]));
    });
  }
  return out;
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(",")}]`;

async function allFinite(t: tf.Tensor): Promise<boolean> {
  return (await readScalar(tf.tidy(() => tf.all(tf.isFinite(t))))) === 1;
}

/**
 * Throws, naming the defense and the tensor, unless every defense adapts the same modules, each
 * module's factors chain (a [d_in, r], b [r, d_out]), each ΔW has its weight's shape and every
 * ΔW is finite (finite factors can still overflow in the product). ΔW is formed one module at a
 * time and freed. Reads asynchronously (webgpu in Node cannot read synchronously,
 * src/core/tensorRead.ts).
 */
export async function checkAdapters(params: ParamMap, adapters: DefenseAdapters): Promise<void> {
  const names = Object.keys(adapters);
  if (names.length === 0) throw new Error("merge: no defense adapters to merge");
  const first = Object.keys(adapters[names[0]].factors).sort().join(", ");
  for (const name of names) {
    const lora = adapters[name];
    const paths = Object.keys(lora.factors).sort().join(", ");
    if (paths !== first) throw new Error(`defense "${name}": adapts modules [${paths}], defense "${names[0]}" adapts [${first}]; adapters of one run must adapt the same modules`);
    for (const [path, f] of Object.entries(lora.factors)) {
      if (f.a.shape[1] !== f.b.shape[0]) throw new Error(`defense "${name}": LoRA factors of "${path}" do not chain: a ${shapeOf(f.a)}, b ${shapeOf(f.b)}`);
      const d = `[${f.a.shape[0]},${f.b.shape[1]}]`;
      const w = params[`${path}.weight`];
      if (!w) throw new Error(`defense "${name}": no weight "${path}.weight" in the model to merge ΔW "${path}" ${d} into`);
      if (shapeOf(w) !== d) throw new Error(`defense "${name}": ΔW "${path}" has shape ${d}, weight "${path}.weight" has ${shapeOf(w)}`);
      const delta = deltaW(f, lora.scale);
      try {
        if (!(await allFinite(delta))) {
          throw new Error(`defense "${name}": ΔW "${path}" ${d} is not finite; the adapter diverged — resume from an earlier checkpoint or lower the learning rate`);
        }
      } finally {
        delta.dispose();
      }
    }
  }
}

/** λ rows in the defenses' order, each checked: finite and one per block the adapters reach. */
function lambdaRows(adapters: DefenseAdapters, lambdas: DefenseLambdas): number[][] {
  const names = Object.keys(adapters);
  const blocks = 1 + Math.max(...Object.keys(adapters[names[0]].factors).map(blockOf));
  return names.map((name) => {
    const row = lambdas[name];
    if (!row) throw new Error(`merge: no λ for defense "${name}" (λ given for ${Object.keys(lambdas).map((n) => `"${n}"`).join(", ") || "none"})`);
    if (row.length < blocks) throw new Error(`merge: λ of defense "${name}" has ${row.length} values, its adapter reaches block ${blocks - 1}`);
    const bad = row.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`merge: λ of defense "${name}" at block ${bad} is ${row[bad]}`);
    return row;
  });
}

/**
 * The checked merge of a run's adapters: W0 + Σ_t λ_t[l] · ΔW_t for every adapted module.
 * Checks the adapters (`checkAdapters`) and λ before merging and every merged weight after (a large
 * free λ can overflow a finite ΔW); on an error nothing it made survives.
 */
export async function mergeWeights(params: ParamMap, adapters: DefenseAdapters, lambdas: DefenseLambdas): Promise<ParamMap> {
  await checkAdapters(params, adapters);
  const names = Object.keys(adapters);
  const merged = foldAdapters(params, names.map((n) => adapters[n]), lambdaRows(adapters, lambdas));
  const paths = Object.keys(adapters[names[0]].factors);
  try {
    for (const p of paths) {
      const w = merged[`${p}.weight`];
      if (!(await allFinite(w))) {
        throw new Error(`merge of defenses ${names.map((n) => `"${n}"`).join(", ")}: merged weight "${p}.weight" ${shapeOf(w)} is not finite (λ at block ${blockOf(p)}: ${names.map((n) => lambdas[n][blockOf(p)]).join(", ")})`);
      }
    }
  } catch (e) {
    tf.dispose(paths.map((p) => merged[`${p}.weight`]));
    throw e;
  }
  return merged;
}
