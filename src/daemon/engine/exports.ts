import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { MergeStrategy, RunConfig } from "../../core/config/types";
import { isHfModelId, parseHfModelId } from "../../core/model/hfModelId";
import { Trainer } from "../../core/train/trainer";
import { writeFileAtomic, writeSafetensorsFile } from "../../core/io/files";
import { saveModelFile } from "../../core/model/modelFile";
import { ParamMap } from "../../core/model/params";
import { ViTConfig } from "../../core/model/config";
import { timmConfig, nearestTimmArchitecture } from "../../core/model/timmConfig";
import { describeValSpec } from "../../core/data/heldOut";
import { Backbone } from "./backbone";
import { runMetadata } from "./runArtifacts";
import { MergeProvenance, renderModelCard, CardEvaluation } from "./modelCard";
import type { MergeObjective } from "../../protocol/runs";
import { lambdaDeviations } from "../../protocol/mergeEvidence";

/**
 * What a run hands to other tools (issue 12):
 *   merged/<strategy>/  model.safetensors + config.json + README.md + merge.json: a timm local-dir
 *   adapters/<defense>/ adapter_model.safetensors + adapter_config.json: a PEFT LoRA adapter
 * Runs from before this layout have merged/model-<strategy>.safetensors; `listMergedModels`
 * reads both.
 */

export const MERGED_WEIGHTS = "model.safetensors";
export const LEGACY_MERGED_RE = /^model-(\w+)\.safetensors$/;

export interface MergedModelFiles {
  strategy: string;
  /** The weights file (merged/<strategy>/model.safetensors, or the legacy flat file). */
  file: string;
  /** The folder a timm local-dir: loads, when the run has the current layout. */
  folder?: string;
}

/** Merged models of a run, both layouts; a strategy in both is read from its folder. */
export async function listMergedModels(runDir: string): Promise<MergedModelFiles[]> {
  const dir = path.join(runDir, "merged");
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  const out = new Map<string, MergedModelFiles>();
  for (const e of entries) {
    const m = LEGACY_MERGED_RE.exec(e.name);
    if (e.isFile() && m) out.set(m[1], { strategy: m[1], file: path.join(dir, e.name) });
  }
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const file = path.join(dir, e.name, MERGED_WEIGHTS);
    if (await fs.access(file).then(() => true, () => false)) out.set(e.name, { strategy: e.name, file, folder: path.join(dir, e.name) });
  }
  return [...out.values()].sort((a, b) => a.strategy.localeCompare(b.strategy));
}

export interface MergedFolderInput {
  runDir: string;
  cfg: RunConfig;
  backbone: Backbone;
  vit: ViTConfig;
  params: ParamMap;
  strategy: MergeStrategy;
  lambdas: Record<string, number[]>;
  /** λ steps run (0 when none ran) and the objective before/after when some did. */
  lambdaSteps: number;
  objective?: MergeObjective;
  step: number;
  from: string;
  classNames: string[];
}

/**
 * Writes merged/<strategy>/: weights first, then config.json, merge.json and the model card,
 * each atomically; a reader that finds config.json finds the weights it describes.
 */
export async function writeMergedFolder(a: MergedFolderInput): Promise<string> {
  const folder = path.join(a.runDir, "merged", a.strategy);
  const file = path.join(folder, MERGED_WEIGHTS);
  // The weights say which merge they hold even when copied away from their folder.
  await saveModelFile(file, a.vit, a.params, {
    ...runMetadata(a.cfg, a.backbone),
    merge: a.strategy,
    lambdas: JSON.stringify(a.lambdas),
    lambda_steps: String(a.lambdaSteps),
    ...(a.objective ? { merge_objective: JSON.stringify(a.objective) } : {}),
    step: String(a.step),
    from: a.from,
  });
  await writeFileAtomic(path.join(folder, "config.json"), JSON.stringify(timmConfig(a.vit, a.classNames), null, 2) + "\n");
  const prov = mergeProvenance(a);
  await writeFileAtomic(path.join(folder, "merge.json"), JSON.stringify(prov, null, 2) + "\n");
  await writeFileAtomic(path.join(folder, "README.md"), renderModelCard(prov, path.basename(folder)));
  return file;
}

/** merge.json: what was merged, how λ was chosen, and from what. */
export function mergeProvenance(a: Pick<MergedFolderInput, "cfg" | "vit" | "strategy" | "lambdas" | "lambdaSteps" | "objective" | "step" | "from"> & { backbone: Pick<Backbone, "source"> }): MergeProvenance {
  const c = a.cfg;
  return {
    format: "hyperat-merge",
    version: 1,
    run: c.name,
    strategy: a.strategy,
    method: c.method,
    base: a.backbone.source,
    defenses: c.defenses.map((d) => ({ name: d.name, ...(d.name !== "pgd-at" ? { beta: d.beta } : {}) })),
    lambdas: a.lambdas,
    lambdaDeviation: lambdaDeviations(a.lambdas),
    lambdaSteps: a.lambdaSteps,
    ...(a.objective ? { objective: a.objective } : {}),
    step: a.step,
    from: a.from,
    data: { train: c.data.train, val: describeValSpec(c.data.val), test: c.data.test },
    eps: String(c.attack.eps),
    trainingAttack: { steps: c.attack.steps, stepSize: String(c.attack.stepSize) },
    lora: { rank: c.lora.rank, alpha: c.lora.alpha, targets: [...c.lora.targets] },
    architecture: nearestTimmArchitecture(a.vit),
  };
}

/** Re-renders each merged folder's model card with its row of an evaluation report. */
export async function refreshModelCards(runDir: string, rows: Array<{ target: string; ev: CardEvaluation }>): Promise<void> {
  for (const m of await listMergedModels(runDir)) {
    if (!m.folder) continue;
    const row = rows.find((r) => r.target === m.strategy);
    let prov: MergeProvenance;
    try {
      prov = JSON.parse(await fs.readFile(path.join(m.folder, "merge.json"), "utf8")) as MergeProvenance;
    } catch {
      continue; // a folder without merge.json was not written by a merge; leave it alone
    }
    await writeFileAtomic(path.join(m.folder, "README.md"), renderModelCard(prov, path.basename(m.folder), row?.ev));
  }
}

/** PEFT's adapter_config.json for one defense's LoRA (peft `LoraConfig` field names). */
export function peftAdapterConfig(cfg: RunConfig, backbone: Backbone, modules: string[]): Record<string, unknown> {
  // A Hub backbone is named as PEFT names one: the repo id, with the pinned commit as `revision`.
  const hub = isHfModelId(backbone.source) ? parseHfModelId(backbone.source) : undefined;
  return {
    peft_type: "LORA",
    task_type: null,
    base_model_name_or_path: hub ? hub.repo : backbone.source,
    ...(hub?.revision ? { revision: hub.revision } : {}),
    r: cfg.lora.rank,
    lora_alpha: cfg.lora.alpha,
    lora_dropout: 0,
    bias: "none",
    fan_in_fan_out: false,
    use_rslora: false,
    use_dora: false,
    inference_mode: true,
    init_lora_weights: true,
    // Full module paths: a bare "proj" would also match patch_embed.proj (PEFT matches suffixes).
    target_modules: modules,
    modules_to_save: ["head"],
  };
}

/**
 * adapters/<defense>/: adapter_model.safetensors in PEFT's key layout (`base_model.model.` +
 * module path + `.lora_A.weight` [r, d_in] / `.lora_B.weight` [d_out, r]; the tuned head as the
 * `modules_to_save` entry `base_model.model.head.*`, timm layout) and adapter_config.json. The
 * adapters apply to the backbone as the run resized it (img/patch size in merged/<strategy>/config.json).
 * For full-at there is no adapter; nothing is written.
 */
export async function writeAdapterFolders(runDir: string, cfg: RunConfig, backbone: Backbone, trainer: Trainer): Promise<string[]> {
  const head = trainer.args.tunable.params();
  const headW = tf.transpose(head["head.weight"]); // timm layout [classes, D]
  const headRaw = {
    "base_model.model.head.weight": { shape: headW.shape, data: (await headW.data()) as Float32Array },
    "base_model.model.head.bias": { shape: head["head.bias"].shape, data: (await head["head.bias"].data()) as Float32Array },
  };
  headW.dispose();
  const written: string[] = [];
  for (let t = 0; t < cfg.defenses.length; t++) {
    const tensors = tf.tidy(() => {
      const lora = trainer.args.tunable.lora(t);
      if (!lora) return undefined;
      const out: Record<string, tf.Tensor> = {};
      for (const [p, f] of Object.entries(lora.factors)) {
        out[`base_model.model.${p}.lora_A.weight`] = tf.transpose(f.a);
        out[`base_model.model.${p}.lora_B.weight`] = tf.transpose(f.b);
      }
      return out;
    });
    if (!tensors) continue;
    const raw: Record<string, { shape: number[]; data: Float32Array }> = { ...headRaw };
    for (const [k, v] of Object.entries(tensors)) raw[k] = { shape: v.shape, data: (await v.data()) as Float32Array };
    tf.dispose(Object.values(tensors));
    const name = cfg.defenses[t].name;
    const folder = path.join(runDir, "adapters", name);
    const modules = Object.keys(raw).filter((k) => k.endsWith(".lora_A.weight")).map((k) => k.slice("base_model.model.".length, -".lora_A.weight".length)).sort();
    const file = path.join(folder, "adapter_model.safetensors");
    await writeSafetensorsFile(file, raw, { format: "pt", hyperat_format: "hyperat-lora", defense: name, scaling: String(cfg.lora.alpha / cfg.lora.rank), step: String(trainer.step), ...runMetadata(cfg, backbone) });
    await writeFileAtomic(path.join(folder, "adapter_config.json"), JSON.stringify(peftAdapterConfig(cfg, backbone, modules), null, 2) + "\n");
    written.push(file);
  }
  return written;
}
