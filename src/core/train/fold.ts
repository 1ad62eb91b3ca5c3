import { ParamMap } from "../model/params";
import { LoraSet } from "../model/lora";
import { foldModules, scaledDelta } from "./merge";

/**
 * Training adapters folded into the weights for the forward passes that need no LoRA gradient
 * (the attack, validation, evaluation): W0 + ΔW formed module by module from the factors, through
 * the one fold of src/core/train/merge.ts, so no module's ΔW outlives its own tidy. Unchecked: a
 * diverged adapter shows as a non-finite loss (src/core/train/nonFiniteLossError.ts); a run's
 * merge uses the checked `mergeWeights`.
 */
export function foldAdapter(params: ParamMap, lora: LoraSet): ParamMap {
  return foldCombined(params, [lora], [1]);
}

/** W0 + Σ_t c_t ΔW_t per module (uniform merge: c_t = 1/K), one module at a time. */
export function foldCombined(params: ParamMap, loras: LoraSet[], coefs: number[]): ParamMap {
  return foldModules(params, Object.keys(loras[0]?.factors ?? {}), (p) => loras.map((l, t) => scaledDelta(l.factors[p], l.scale, coefs[t])));
}
