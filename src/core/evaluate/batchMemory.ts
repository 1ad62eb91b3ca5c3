import { ViTConfig, numTokens } from "../model/config";
import { tapeFloatsPerImage } from "../memory/activations";
import { paramShapes } from "../model/params";

/**
 * Whether one attack batch fits, decided before anything runs: `eval --batch 20000` on a
 * ViT-micro ran 90 s and died with `memory access out of bounds` at 4.3 GB RSS (issue 15).
 * Per image it counts the floats the forward + backward tape keeps, as the memory plan does
 * (src/core/memory/activations.ts, fitted with tf.profile: docs/memory.md), plus the weights.
 * Evaluation results depend on the batch size, so an oversize batch is refused, never silently
 * split.
 */

/** wasm's heap stops near 3.9 GiB and corrupts tensors before it errors; stay well below. */
export const WASM_HEAP_LIMIT_BYTES = 3.2 * 2 ** 30;

/** What one backend can hold: wasm's heap, else 16 GiB (as the daemon's training estimate) or
 * three quarters of `totalMemBytes` (os.totalmem()), whichever is less. */
export function backendMemoryLimit(backend: string, totalMemBytes: number): number {
  return backend === "wasm" ? WASM_HEAP_LIMIT_BYTES : Math.min(16 * 2 ** 30, 0.75 * totalMemBytes);
}

/** Peak bytes of one attack step (forward + input gradient) on `batch` images. */
export function attackBatchBytes(vit: ViTConfig, batch: number): number {
  const params = paramShapes(vit).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  return 4 * (params + batch * tapeFloatsPerImage(vit));
}

/** The largest batch whose attack step fits in `limitBytes` (0 if not even one image does). */
export function maxAttackBatch(vit: ViTConfig, limitBytes: number): number {
  const one = attackBatchBytes(vit, 1);
  const fixed = attackBatchBytes(vit, 0);
  return Math.max(0, Math.floor((limitBytes - fixed) / (one - fixed)));
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Throws a message naming the setting, the estimate, the limit and a batch that fits. */
export function checkAttackBatch(vit: ViTConfig, batch: number, limitBytes: number, setting: string, backend: string): void {
  const bytes = attackBatchBytes(vit, batch);
  if (bytes <= limitBytes) return;
  const fits = maxAttackBatch(vit, limitBytes);
  throw new Error(
    `${setting} ${batch}: one attack step needs about ${gib(bytes)} (ViT dim ${vit.dim}, depth ${vit.depth}, ${numTokens(vit)} tokens), ` +
      `over the ${gib(limitBytes)} the ${backend} backend can hold; ` +
      (fits > 0 ? `use ${setting} ${fits} or less` : `the model itself does not fit: use a smaller model or image size`),
  );
}
