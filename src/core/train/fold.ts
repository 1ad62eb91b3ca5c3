import * as tf from "@tensorflow/tfjs";
import { ParamMap } from "../model/params";
import { deltaW, LoraSet } from "../model/lora";
import { blockOf, Deltas } from "./merge";

/**
 * W0 + ΔW for every adapted module, one module at a time. Materializing every ΔW first and
 * adding afterwards (applyDeltas(params, adapterDeltas(lora)) inside one tidy) keeps all the
 * deltas alive until the tidy ends: twice the adapted weights at the peak, three quarters of a
 * ViT-B's bytes more than needed, and (K + 1)-fold for a merge of K adapters — the copies that
 * exhausted the wasm heap (docs/memory.md). Here each module's temporaries die in its own
 * tidy, so the peak is the folded copy plus one module's ΔW.
 */
export function foldAdapter(params: ParamMap, lora: LoraSet): ParamMap {
  return foldCombined(params, [lora], [1]);
}

/** W0 + Σ_t c_t ΔW_t per module (uniform merge: c_t = 1/K), one module at a time. */
export function foldCombined(params: ParamMap, loras: LoraSet[], coefs: number[]): ParamMap {
  const out: ParamMap = { ...params };
  for (const p of Object.keys(loras[0]?.factors ?? {})) {
    const name = `${p}.weight`;
    out[name] = tf.tidy(() => {
      const terms = loras.map((l, t) => (coefs[t] === 1 ? deltaW(l.factors[p], l.scale) : tf.mul(deltaW(l.factors[p], l.scale), coefs[t])));
      return tf.add(params[name], terms.length === 1 ? terms[0] : tf.addN(terms));
    });
  }
  return out;
}

/**
 * W0 + Σ_t λ[t][l] ΔW_t for materialized deltas (merging), one module at a time: the same ops
 * as applyDeltas(params, combineDeltas(perDefense, λ)) (merge.ts), so the same bits, without
 * the K scaled copies and their sum alive together.
 */
export function foldDeltas(params: ParamMap, perDefense: Deltas[], lambdas: number[][]): ParamMap {
  const out: ParamMap = { ...params };
  for (const p of Object.keys(perDefense[0] ?? {})) {
    const l = blockOf(p);
    out[`${p}.weight`] = tf.tidy(() => tf.add(params[`${p}.weight`], tf.addN(perDefense.map((d, t) => tf.mul(d[p], lambdas[t][l])))));
  }
  return out;
}
