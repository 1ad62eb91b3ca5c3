// Trainable vs total parameter counts of a config, for the config decorations: the core's own
// count (src/core/train/paramCount.ts), which reads shapes only and imports no TensorFlow.js.
import type { RunConfig } from "../core/config/types";
import { countTrainableParams } from "../core/train/paramCount";

/** undefined when the architecture comes from a file (unknown until it is read) or is invalid. */
export function countTrainable(cfg: RunConfig): { trainableParams: number; totalParams: number } | undefined {
  // Class count defaults to the training data's; the built-in sets have 10 (shapes10, CIFAR-10) or 100.
  const classes = cfg.model.numClasses ?? (/cifar-?100/i.test(cfg.data.train) ? 100 : 10);
  try {
    const c = countTrainableParams(cfg, undefined, classes);
    return c && { trainableParams: c.trainable, totalParams: c.backbone };
  } catch {
    return undefined; // e.g. imgSize not divisible by patchSize: the diagnostics say so
  }
}
