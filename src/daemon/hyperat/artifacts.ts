import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { RunConfig } from "../../core/config/types";
import { Trainer } from "../../core/train/trainer";
import { writeSafetensorsFile } from "../../core/io/files";
import { saveModelFile } from "../../core/model/checkpoint";
import { ParamMap } from "../../core/model/params";
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

/**
 * adapters/<defense>.safetensors in peft's naming and layout: `<module>.lora_A.weight` [r, d_in],
 * `<module>.lora_B.weight` [d_out, r], scaling alpha/r in the metadata. For full-at there is no
 * adapter; nothing is written.
 */
export async function saveAdapterFiles(runDir: string, cfg: RunConfig, backbone: Backbone, trainer: Trainer): Promise<string[]> {
  const written: string[] = [];
  for (let t = 0; t < cfg.defenses.length; t++) {
    const tensors = tf.tidy(() => {
      const lora = trainer.args.tunable.lora(t);
      if (!lora) return undefined;
      const out: Record<string, tf.Tensor> = {};
      for (const [p, f] of Object.entries(lora.factors)) {
        out[`${p}.lora_A.weight`] = tf.transpose(f.a);
        out[`${p}.lora_B.weight`] = tf.transpose(f.b);
      }
      return out;
    });
    if (!tensors) continue;
    const raw: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(tensors)) raw[k] = { shape: v.shape, data: (await v.data()) as Float32Array };
    tf.dispose(Object.values(tensors));
    const file = path.join(runDir, "adapters", `${cfg.defenses[t].name}.safetensors`);
    await writeSafetensorsFile(file, raw, {
      format: "hyperat-lora",
      defense: cfg.defenses[t].name,
      scaling: String(cfg.lora.alpha / cfg.lora.rank),
      step: String(trainer.step),
      ...runMetadata(cfg, backbone),
    });
    written.push(file);
  }
  // The tuned classification head belongs with the adapters: they are useless without it.
  const head = trainer.args.tunable.params();
  const headT = tf.transpose(head["head.weight"]); // timm layout [classes, D]
  const headW = { shape: headT.shape, data: (await headT.data()) as Float32Array };
  headT.dispose();
  await writeSafetensorsFile(
    path.join(runDir, "adapters", "head.safetensors"),
    { "head.weight": headW, "head.bias": { shape: head["head.bias"].shape, data: (await head["head.bias"].data()) as Float32Array } },
    { format: "hyperat-head", ...runMetadata(cfg, backbone) },
  );
  return written;
}

/** merged/<name>.safetensors: a plain timm-named ViT with the run's provenance. */
export async function saveMergedModel(runDir: string, name: string, cfg: RunConfig, backbone: Backbone, params: ParamMap, extra: Record<string, string>): Promise<string> {
  const file = path.join(runDir, "merged", `${name}.safetensors`);
  await saveModelFile(file, backbone.vit, params, { ...runMetadata(cfg, backbone), ...extra });
  return file;
}
