import { ViTConfig, numTokens } from "../model/config";
import type { MemoryLimit } from "../memory/limits";
import { planAttackBatch, type PlanConfig } from "../memory/plan";

/**
 * The attack batch an evaluation runs at, decided before anything runs: `eval --batch 20000` on
 * a ViT-micro once ran 90 s and died with `memory access out of bounds` at 4.3 GB RSS (issue 15).
 * Results do not depend on the batch (per-sample random streams,
 * test/core/evaluate/batchIndependence.test.ts), so a batch that does not fit is planned down
 * to the largest that does, with the memory plan's own estimate (src/core/memory/plan.ts
 * `planAttackBatch`, the one validation uses); only a model that does not fit at one image is refused.
 */

export interface EvaluationBatch {
  /** Images per attack batch. */
  batch: number;
  /** The plan's peak bytes at `batch` (a model copy and its attack step: what one pool worker holds). */
  bytes: number;
  /** Why it is below the requested one, when it is (for the CLI's line and the report). */
  note?: string;
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/**
 * `requested` (already capped at the number of samples; `asked` is the setting's own value, for
 * the message), or the largest batch that fits `limit`.
 * `c` is the run's plan config (its folded copies count), undefined for a stand-alone model file.
 * Throws a message naming the setting, the estimate, the limit and the fix when not even one image fits.
 */
export function fitEvaluationBatch(vit: ViTConfig, c: PlanConfig | undefined, requested: number, limit: MemoryLimit, setting: string, asked = requested): EvaluationBatch {
  const plan = planAttackBatch(vit, c, requested, limit, "evaluation");
  const where = `over the limit of ${gib(limit.bytes)} (${limit.source} on ${limit.backend})`;
  if (plan.batch === 0 && plan.planned.bytes <= limit.bytes) {
    throw new Error(`${setting} ${requested}: at 1 image one tensor is over the device's largest buffer (${gib(limit.maxTensorBytes ?? 0)} on ${limit.backend}): use a smaller model or image size, or another backend`);
  }
  if (plan.batch === 0) {
    throw new Error(
      `${setting} ${requested}: one attack step needs about ${gib(plan.planned.bytes)} even at 1 image (ViT dim ${vit.dim}, depth ${vit.depth}, ${numTokens(vit)} tokens), ${where}: ` +
        `the model itself does not fit; use a smaller model or image size, or another backend`,
    );
  }
  if (plan.batch >= requested) return { batch: requested, bytes: plan.planned.bytes };
  const what = asked > requested ? `${setting} ${asked} (${requested} samples)` : `${setting} ${requested}`;
  return { batch: plan.batch, bytes: plan.planned.bytes, note: `${what} does not fit (one attack step needs about ${gib(plan.requested.bytes)}, ${where}); running at ${plan.batch} (results do not depend on the batch)` };
}
