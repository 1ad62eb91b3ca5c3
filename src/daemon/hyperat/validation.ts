import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { Dataset } from "../../core/data/types";
import { Trainer } from "../../core/train/trainer";
import { adapterDeltas, applyDeltas, combineDeltas, uniformLambdas } from "../../core/train/merge";
import { attackSettings } from "../../core/train/build";
import { forward, Classifier } from "../../core/model/vit";
import { EvaluationRecord } from "../../protocol/runs";
import { evaluateClassifier } from "./evaluateModels";
import { Backbone } from "./backbone";

/**
 * Periodic validation during training (issue 4): robust accuracy of each defense's LoRA and of
 * their uniform merge on the held-out split, under `training.validationAttack`.
 */
export function validateDuringTraining(cfg: RunConfig, backbone: Backbone, trainer: Trainer, val: Dataset): EvaluationRecord[] {
  const n = Math.min(cfg.training.validationN, val.n);
  const size = val.height * val.width * 3;
  const x = tf.tensor4d(val.images.subarray(0, n * size), [n, val.height, val.width, 3]);
  const y = tf.tensor1d(val.labels.subarray(0, n), "int32");
  const { eps } = attackSettings(cfg);
  const tunable = trainer.args.tunable;
  const out: EvaluationRecord[] = [];
  try {
    const run = (target: string, make: () => Classifier) => {
      const r = tf.tidy(() => evaluateClassifier(make(), x, y, cfg.training.validationAttack, eps, cfg.seed, cfg.evaluation.batchSize));
      out.push({ step: trainer.step, target, ...r });
    };
    if (tunable.method === "hyperat") {
      cfg.defenses.forEach((d, t) => run(d.name, () => trainer.attackModel(t)));
      run("uniform", () => {
        const deltas = cfg.defenses.map((_, t) => adapterDeltas(tunable.lora(t)!));
        const params = applyDeltas(tunable.params(), combineDeltas(deltas, uniformLambdas(cfg.defenses.length, backbone.vit.depth)));
        return (xx) => forward(backbone.vit, params, xx);
      });
    } else {
      run(tunable.method === "lora-at" ? cfg.defenses[0].name : "full", () => trainer.attackModel(0));
    }
  } finally {
    tf.dispose([x, y]);
  }
  return out;
}
