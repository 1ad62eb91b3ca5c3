import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { Dataset } from "../../core/data/types";
import { Trainer } from "../../core/train/trainer";
import { foldCombined } from "../../core/train/fold";
import { evaluate } from "../../core/evaluate/evaluator";
import { forward } from "../../core/model/vit";
import { ParamMap } from "../../core/model/params";
import { BaseModelRecord, EvaluationRecord } from "../../protocol/runs";
import { isNearChance, nearChanceHint } from "../../protocol/trainingChecks";
import { Backbone } from "./backbone";
import { resolveAttackList } from "../../core/evaluate/presets";

/**
 * Periodic validation during training (issue 4): robust accuracy of each defense's LoRA and of
 * their uniform merge on the held-out split under `training.validationAttack`, with the same
 * evaluator as the final evaluation (so the numbers mean the same thing).
 */
export async function validateDuringTraining(cfg: RunConfig, backbone: Backbone, trainer: Trainer, val: Dataset, batchSize = cfg.evaluation.batchSize): Promise<EvaluationRecord[]> {
  const tunable = trainer.args.tunable;
  const K = cfg.defenses.length;
  const targets: Array<{ target: string; params: () => ParamMap }> = [];
  if (tunable.method === "hyperat") {
    cfg.defenses.forEach((d, t) => targets.push({ target: d.name, params: () => trainer.foldedParams(t) }));
    targets.push({
      target: "uniform",
      params: () => foldCombined(tunable.params(), cfg.defenses.map((_, t) => tunable.lora(t)!), cfg.defenses.map(() => 1 / K)),
    });
  } else if (tunable.method === "lora-at") {
    targets.push({ target: cfg.defenses[0].name, params: () => trainer.foldedParams(0) });
  } else {
    targets.push({ target: "full-at", params: () => ({ ...tunable.params() }) });
  }
  const out: EvaluationRecord[] = [];
  const base = tunable.params();
  for (const { target, params } of targets) {
    const p = tf.tidy(params);
    try {
      const r = await evaluate((x) => forward(backbone.vit, p, x, { checkpoint: trainer.args.checkpoint }), val, {
        attacks: resolveAttackList(cfg.training.validationAttack), // one attack, a list or a preset: worst case over it
        eps: cfg.attack.eps,
        seed: cfg.seed,
        n: Math.min(cfg.training.validationN, val.n),
        batchSize, // the memory plan's validation batch (docs/memory.md)
        checks: false,
      });
      out.push({ step: trainer.step, target, split: "val", cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy, worstCaseRobustAccuracy: r.worstCaseRobustAccuracy });
    } finally {
      for (const [k, v] of Object.entries(p)) if (base[k] !== v) v.dispose();
    }
  }
  return out;
}

/**
 * The base model's clean accuracy on the val split before any tuning (issue 16 item 2): a model
 * near chance here (too little clean pretraining, wrong numClasses or normalization) makes every
 * later number meaningless, so the run says so at its start. Clean pass only (no attacks).
 */
export async function measureBaseModel(cfg: RunConfig, backbone: Backbone, val: Dataset): Promise<BaseModelRecord> {
  const n = Math.min(cfg.training.validationN, val.n);
  const r = await evaluate((x) => forward(backbone.vit, backbone.params, x), val, { attacks: [], eps: cfg.attack.eps, seed: cfg.seed, n, batchSize: cfg.evaluation.batchSize, checks: false });
  const numClasses = backbone.vit.numClasses;
  const nearChance = isNearChance(r.cleanAccuracy, numClasses);
  return { source: backbone.source, cleanAccuracy: r.cleanAccuracy, n, numClasses, nearChance, ...(nearChance ? { hint: nearChanceHint(backbone.source) } : {}) };
}
