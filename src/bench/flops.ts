import { ViTConfig, numTokens } from "../core/model/config";
import { MODULE_TYPES, moduleDims } from "../core/model/params";

/**
 * Analytic FLOP counts (one multiply-add = 2 FLOPs, matmuls only: elementwise work is a few %)
 * for the benchmark's steps, so GFLOP/s compares across backends and against the machine's
 * matmul ceiling. Backward passes: the input gradient of a linear map costs what its forward
 * did; its weight gradient the same again; attention's two products need two each.
 */
export interface StepFlops {
  forward: number;
  trainStep: number;
  advStep: number;
  loraAtStep: number;
  hyperatStep: number;
}

export function stepFlops(c: ViTConfig, batch: number, pgdSteps: number, loraRank: number): StepFlops {
  const T = numTokens(c);
  const N = batch * T;
  const Dh = c.dim / c.heads;
  let linear = 2 * batch * (T - 1) * c.inChans * c.patchSize ** 2 * c.dim + 2 * batch * c.dim * c.numClasses;
  let lora = 0;
  for (const m of MODULE_TYPES) {
    const [din, dout] = moduleDims(c, m);
    linear += c.depth * 2 * N * din * dout;
    lora += c.depth * 2 * N * loraRank * (din + dout);
  }
  const attention = c.depth * 2 * (2 * batch * c.heads * T * T * Dh);
  const forward = linear + attention;
  const inputBackward = linear + 2 * attention;
  const fullBackward = 2 * linear + 2 * attention;
  const loraForward = forward + lora;
  // LoRA backward: input gradients through everything (frozen weights included) + the factors'.
  const loraBackward = inputBackward + 2 * lora;
  const attack = pgdSteps * (loraForward + inputBackward + lora);
  return {
    forward,
    trainStep: forward + fullBackward,
    advStep: pgdSteps * (forward + inputBackward) + forward + fullBackward,
    loraAtStep: attack + loraForward + loraBackward,
    hyperatStep: attack + loraForward + loraBackward,
  };
}
