import { ViTConfig, numTokens } from "../model/config";

/**
 * Floats one image keeps alive while tfjs computes a forward pass and its backward pass (the
 * tape keeps every intermediate and every gradient of the step until it ends). Fitted with
 * `tf.profile` peak bytes on the wasm backend over ViTs that vary D, M, H and depth one at a
 * time (docs/memory.md, "Where the constants come from"), per block:
 *   66·T·D  (residual stream, LayerNorm, q/k/v head transposes, projections, their gradients)
 *   6·T·M   (fc1 output, GELU, their gradients)
 *   5·H·T²  (scores, softmax and their gradients)
 * plus 22·T·D outside the blocks (normalization, patches, tokens, final LayerNorm).
 */
export const TAPE = { blockTD: 66, blockTM: 6, blockHTT: 5, embedTD: 22 } as const;

/** The loss pass with a LoRA on the weights keeps ~1.4× the plain pass (x·A, ·B, the sum). */
export const LORA_TAPE_FACTOR = 1.4;

/**
 * Tape floats of one image through a forward + backward pass (no LoRA). With activation
 * checkpointing (src/core/model/checkpointing.ts) one block's tape is alive at a time, beside
 * each block's saved input and its output gradient (2·T·D per block, measured the same way).
 */
export function tapeFloatsPerImage(vit: ViTConfig, checkpoint = false): number {
  const T = numTokens(vit);
  const block = TAPE.blockTD * T * vit.dim + TAPE.blockTM * T * vit.mlpDim + TAPE.blockHTT * vit.heads * T * T;
  const embed = TAPE.embedTD * T * vit.dim;
  return checkpoint ? block + embed + vit.depth * CHECKPOINT_BLOCK_TD * T * vit.dim : vit.depth * block + embed;
}

/** Floats per block and image a checkpointed tape keeps: the block's input and its gradient. */
export const CHECKPOINT_BLOCK_TD = 2;

/** Forward passes each defense's loss makes (TRADES and MART also run the clean input). */
export function lossForwards(defense: string): number {
  return defense === "pgd-at" ? 1 : 2;
}

/** The largest single activation of one image (bytes / 4): attention scores or the fc1 output. */
export function largestActivationFloats(vit: ViTConfig): number {
  const T = numTokens(vit);
  return Math.max(vit.heads * T * T, T * vit.mlpDim);
}
