import * as fs from "node:fs/promises";
import { constants } from "node:fs";
import * as path from "node:path";
import { ConfigError } from "../core/config/configError";
import { RunConfig } from "../core/config/types";
import { resolveAttackList } from "../core/evaluate/presets";
import { isHeldOut } from "../core/data/heldOut";
import { PRESETS } from "../core/model/config";
import { defaultSuite } from "./engine/evaluateRun";
import { dataFacts, DataFacts } from "./preflightData";
import { ModelFacts, modelFactsFromHeader, readModelHeader } from "./preflightModel";
import { resolveModelSource } from "../core/model/modelSource";

/**
 * The up-front validation pass (issue 15): everything about a schema-valid config that can be
 * known without training, checked before `RunManager.start` creates a run folder and shared by
 * `train`, the daemon's `run.start`, `hyperat check`, `resume` (on the frozen config.json,
 * configFile.ts recheckFrozenConfigFile) and the editor's diagnostics (configCheck.ts). Attack names, data specs (their files'
 * kinds and sizes, from the index only), the model header, size bounds that depend on the model
 * (LoRA rank) and the pretraining cache folder. Every error is a ConfigError naming the JSON
 * path, the value and what is expected, in `file`; no engine text reaches the user.
 */
export interface PreflightFacts {
  data: { train: DataFacts; val: DataFacts; test: DataFacts };
  model: { source: "file" | "preset"; name: string; dim: number; mlpDim: number; depth: number; parameters?: number };
  attacks: { validation: string[]; evaluationSuite: string; evaluation: string[] };
  /** Optimizer steps of the tuning run, plus clean pretraining (when a preset has one, cached or not). */
  steps: { training: number; pretrain: number; epochs: number };
}

/** `cfg` is schema-valid with its paths made absolute (src/daemon/engine/configFile.ts). Throws
 * the first problem preflightProblems finds. */
export async function preflight(cfg: RunConfig, file: string): Promise<PreflightFacts> {
  const { facts, problems } = await preflightProblems(cfg, file);
  if (problems.length > 0 || !facts) throw problems[0];
  return facts;
}

/**
 * Every problem of the pass, not just the first: the editor's diagnostics show them all at once
 * (src/daemon/configCheck.ts). Checks that need another's result (the held-out val needs the
 * train count, the LoRA rank bound the model's widths) are skipped when that one failed; `facts`
 * is there only when nothing failed.
 */
export async function preflightProblems(cfg: RunConfig, file: string): Promise<{ facts?: PreflightFacts; problems: ConfigError[] }> {
  const problems: ConfigError[] = [];
  const keep = async <T>(fn: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e);
      return undefined;
    }
  };
  const validation = await keep(() => at("/training/validationAttack", file, () => resolveAttackList(cfg.training.validationAttack)));
  const suite = defaultSuite(cfg);
  const evaluation = await keep(() => at("/evaluation/attacks", file, () => resolveAttackList(suite)));
  const data = await checkData(cfg, file, keep);
  const model = await keep(() => checkModel(cfg, file));
  if (model) await keep(() => checkLoraRank(cfg, model, file));
  if (cfg.model.pretrain && !cfg.model.path) await keep(() => checkWritableFolder(cfg.model.pretrain!.cacheDir!, "/model/pretrain/cacheDir", file));
  if (problems.length > 0 || !validation || !evaluation || !data || !model) return { problems };
  const pretrain = cfg.model.pretrain && !cfg.model.path ? cfg.model.pretrain.steps : 0;
  const epochs = (cfg.training.steps * cfg.training.batchSize) / data.train.samples;
  const attacks = { validation, evaluationSuite: suite, evaluation };
  return { facts: { data, model, attacks, steps: { training: cfg.training.steps, pretrain, epochs } }, problems };
}

type Keep = <T>(fn: () => T | Promise<T>) => Promise<T | undefined>;

/** Runs `fn`; any error it throws becomes a ConfigError at `jsonPath`. */
function at<T>(jsonPath: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(jsonPath, (e as Error).message, file);
  }
}

async function checkData(cfg: RunConfig, file: string, keep: Keep): Promise<PreflightFacts["data"] | undefined> {
  const train = await keep(() => at("/data/train", file, () => dataFacts(cfg.data.train, "train")));
  const test = await keep(() => at("/data/test", file, () => dataFacts(cfg.data.test, "test")));
  const v = cfg.data.val;
  let val: DataFacts | undefined;
  if (isHeldOut(v)) {
    if (!train) return undefined;
    // src/core/data/heldOut.ts holdOut: at least one image must stay in training.
    const n = v.n;
    val = await keep(() => {
      if (n >= train.samples) throw new ConfigError("/data/val/n", `holding out n=${n} of the ${train.samples} training samples of ${train.source} leaves none to train on; expected n < ${train.samples}`, file);
      return { kind: train.kind, samples: n, available: train.samples, source: `${n} held out of ${train.source}` };
    });
    if (val) train.samples -= n;
  } else {
    val = await keep(() => at("/data/val", file, () => dataFacts(v, "test")));
  }
  return train && val && test ? { train, val, test } : undefined;
}

async function checkModel(cfg: RunConfig, file: string): Promise<PreflightFacts["model"]> {
  if (cfg.model.path === undefined) {
    const p = PRESETS[cfg.model.preset];
    return { source: "preset", name: cfg.model.preset, dim: p.dim, mlpDim: p.mlpDim, depth: p.depth };
  }
  const modelPath = cfg.model.path;
  let facts: ModelFacts;
  try {
    // A folder (timm local-dir, a run's merged/<strategy>/) or an `hf:` id names its weights file.
    const { weights } = await resolveModelSource(modelPath);
    facts = modelFactsFromHeader((await readModelHeader(weights)).tensors, weights);
  } catch (e) {
    throw new ConfigError("/model/path", (e as Error).message, file);
  }
  return { source: "file", name: modelPath, dim: facts.dim, mlpDim: facts.mlpDim, depth: facts.depth, parameters: facts.parameters };
}

/**
 * A rank-r LoRA factors ΔW = B·A with A: r×d_in and B: d_out×r; beyond min(d_in, d_out) the extra
 * rank adds parameters and compute but cannot raise the rank of ΔW (Hu et al. 2021, §4.1).
 * `lora.rank: 4096` on a width-64 model was accepted and trained (issue 15).
 */
function checkLoraRank(cfg: RunConfig, model: PreflightFacts["model"], file: string): void {
  if (cfg.method === "full-at") return; // no adapters
  const D = model.dim;
  const shapes: Record<string, [number, number]> = { qkv: [D, 3 * D], proj: [D, D], fc1: [D, model.mlpDim], fc2: [model.mlpDim, D] };
  let bound = Infinity;
  let where = "";
  for (const t of cfg.lora.targets) {
    const m = Math.min(...shapes[t]);
    if (m < bound) [bound, where] = [m, `${t}: ${shapes[t][0]}→${shapes[t][1]}`];
  }
  if (cfg.lora.rank > bound) {
    throw new ConfigError("/lora/rank", `rank ${cfg.lora.rank} is over min(d_in, d_out) = ${bound} of the adapted layers of ${model.name} (${where}); a LoRA cannot have a higher rank than its layer. Expected 1..${bound}`, file);
  }
}

/**
 * The nearest existing folder of `dir` must be a writable directory. `/proc` made `mkdir -p`
 * loop forever in clean pretraining (issue 15); here it fails at once, naming the path.
 */
async function checkWritableFolder(dir: string, jsonPath: string, file: string): Promise<void> {
  const real = path.resolve(dir);
  if (/^\/(proc|sys|dev)(\/|$)/.test(real)) throw new ConfigError(jsonPath, `${real} is inside a kernel file system; expected a folder on a disk`, file);
  let p = real;
  for (;;) {
    try {
      const st = await fs.stat(p);
      if (!st.isDirectory()) throw new ConfigError(jsonPath, `${p} is not a directory, so ${real} cannot be created`, file);
      await fs.access(p, constants.W_OK).catch(() => {
        throw new ConfigError(jsonPath, `${p} is not writable, so the pretraining cache ${real} cannot be written`, file);
      });
      return;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      const parent = path.dirname(p);
      if (parent === p) return;
      p = parent;
    }
  }
}
