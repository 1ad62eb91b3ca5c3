import { RunConfig } from "../../core/config/types";
import { Backbone } from "./backbone";

/** Provenance every artifact of a run carries in its safetensors metadata. */
export function runMetadata(cfg: RunConfig, backbone: Backbone): Record<string, string> {
  return {
    method: cfg.method,
    defenses: cfg.defenses.map((d) => d.name).join(","),
    lora_rank: String(cfg.lora.rank),
    lora_alpha: String(cfg.lora.alpha),
    lora_targets: cfg.lora.targets.join(","),
    eps: String(cfg.attack.eps),
    seed: String(cfg.seed),
    backbone: backbone.source,
    run: cfg.name,
  };
}
