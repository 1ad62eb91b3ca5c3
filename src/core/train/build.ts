import { ViTConfig } from "../model/config";
import { ParamMap } from "../model/params";
import { RunConfig } from "../config/types";
import { parseFraction } from "../config/fraction";
import { makeDefense } from "./defenses/registry";
import { FullTunable, HyperatTunable, LoraTunable, Tunable } from "./tunable";
import { Trainer } from "./trainer";

/** The trainable part a config asks for, on top of a frozen backbone (which includes the head). */
export function buildTunable(cfg: RunConfig, vit: ViTConfig, backbone: ParamMap): Tunable {
  switch (cfg.method) {
    case "hyperat":
      return new HyperatTunable(
        backbone,
        vit,
        {
          numDefenses: cfg.defenses.length,
          targets: cfg.lora.targets,
          rank: cfg.lora.rank,
          alpha: cfg.lora.alpha,
          embedDim: cfg.hypernet.embedDim,
          hiddenDim: cfg.hypernet.hiddenDim,
          latentDim: cfg.hypernet.latentDim,
        },
        cfg.seed,
      );
    case "lora-at":
      return new LoraTunable(backbone, vit, cfg.lora, cfg.seed);
    case "full-at":
      return new FullTunable(backbone);
  }
}

export function attackSettings(cfg: RunConfig): { eps: number; stepSize: number; steps: number } {
  return {
    eps: parseFraction(cfg.attack.eps, "/attack/eps").value,
    stepSize: parseFraction(cfg.attack.stepSize, "/attack/stepSize").value,
    steps: cfg.attack.steps,
  };
}

/** A Trainer for a validated config: its method, defenses, sampling weights and optimizer. */
export function buildTrainer(cfg: RunConfig, vit: ViTConfig, backbone: ParamMap, opts: { checkpoint?: boolean } = {}): Trainer {
  return new Trainer({
    vit,
    tunable: buildTunable(cfg, vit, backbone),
    defenses: cfg.defenses.map((d) => makeDefense(d)),
    weights: cfg.defenses.map((d) => d.weight),
    attack: attackSettings(cfg),
    optimizer: cfg.optimizer,
    totalSteps: cfg.training.steps,
    seed: cfg.seed,
    checkpoint: opts.checkpoint,
  });
}
