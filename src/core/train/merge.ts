import * as tf from "@tensorflow/tfjs";
import { ParamMap } from "../model/params";
import { deltaW, LoraSet } from "../model/lora";
import { readScalar } from "../tensorRead";

/**
 * The merge: W0 + Σ_t λ[t][l] · ΔW_t for every adapted module (docs/method.md, "merging into
 * one model"). Every path that adds a ΔW to a frozen weight goes through `foldModules`; a run's
 * merge goes through `mergeWeights`, which checks shapes and finiteness first and names the
 * defense, the tensor and its shape when one is wrong (PEFT's `safe_merge` checks the same).
 */

/** ΔW per module path, materialized (engine layout `[d_in, d_out]`). */
export type Deltas = Record<string, tf.Tensor2D>;

/** Each defense's ΔW, keyed by defense name (adapters are keyed by name, as in PEFT). */
export type DefenseDeltas = Record<string, Deltas>;

/** λ per defense name, one coefficient per block. */
export type DefenseLambdas = Record<string, number[]>;

/** Materializes every ΔW = (alpha/r)·a·b of one adapter (merging is where BA is formed). */
export function adapterDeltas(lora: LoraSet): Deltas {
  return Object.fromEntries(Object.entries(lora.factors).map(([p, f]) => [p, deltaW(f, lora.scale)]));
}

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

/**
 * W0 + Σ_t λ[t][l] · ΔW_t over checked deltas (`checkDeltas`), λ as nested numbers `[K][L]` or a
 * differentiable `[K, L]` tensor (the adaptive merge's tape).
 */
export function foldDeltas(params: ParamMap, perDefense: Deltas[], lambdas: tf.Tensor2D | number[][]): ParamMap {
  const coef = (t: number, l: number) => (Array.isArray(lambdas) ? lambdas[t][l] : tf.reshape(tf.slice(lambdas, [t, l], [1, 1]), []));
  return foldModules(params, Object.keys(perDefense[0] ?? {}), (p) => perDefense.map((d, t) => tf.mul(d[p], coef(t, blockOf(p)))));
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(",")}]`;

async function allFinite(t: tf.Tensor): Promise<boolean> {
  return (await readScalar(tf.tidy(() => tf.all(tf.isFinite(t))))) === 1;
}

/**
 * Throws, naming the defense and the tensor, unless every defense adapts the same modules, each
 * ΔW has its weight's shape and every ΔW is finite. Reads asynchronously (webgpu in Node cannot
 * read synchronously, src/core/tensorRead.ts).
 */
export async function checkDeltas(params: ParamMap, adapters: DefenseDeltas): Promise<void> {
  const names = Object.keys(adapters);
  if (names.length === 0) throw new Error("merge: no defense adapters to merge");
  const first = Object.keys(adapters[names[0]]).sort().join(", ");
  for (const name of names) {
    const paths = Object.keys(adapters[name]).sort().join(", ");
    if (paths !== first) throw new Error(`defense "${name}": adapts modules [${paths}], defense "${names[0]}" adapts [${first}]; adapters of one run must adapt the same modules`);
    for (const [path, d] of Object.entries(adapters[name])) {
      const w = params[`${path}.weight`];
      if (!w) throw new Error(`defense "${name}": no weight "${path}.weight" in the model to merge ΔW "${path}" ${shapeOf(d)} into`);
      if (shapeOf(w) !== shapeOf(d)) throw new Error(`defense "${name}": ΔW "${path}" has shape ${shapeOf(d)}, weight "${path}.weight" has ${shapeOf(w)}`);
      if (!(await allFinite(d))) {
        throw new Error(`defense "${name}": ΔW "${path}" ${shapeOf(d)} is not finite; the adapter diverged — resume from an earlier checkpoint or lower the learning rate`);
      }
    }
  }
}

/** λ rows in the defenses' order, each checked: finite and one per block the adapters reach. */
function lambdaRows(adapters: DefenseDeltas, lambdas: DefenseLambdas): number[][] {
  const names = Object.keys(adapters);
  const blocks = 1 + Math.max(...Object.keys(adapters[names[0]]).map(blockOf));
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
 * Checks the deltas (`checkDeltas`) and λ before merging and every merged weight after (a large
 * free λ can overflow a finite ΔW); on an error nothing it made survives.
 */
export async function mergeWeights(params: ParamMap, adapters: DefenseDeltas, lambdas: DefenseLambdas): Promise<ParamMap> {
  await checkDeltas(params, adapters);
  const names = Object.keys(adapters);
  const merged = foldDeltas(params, names.map((n) => adapters[n]), lambdaRows(adapters, lambdas));
  const paths = Object.keys(adapters[names[0]]);
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
