import * as fs from "node:fs/promises";
import * as path from "node:path";
import { HfModelError, isHfModelId, resolveHfModel } from "../io/hfHubCache";
import { readRegularText } from "../io/regularFile";
import { LoadOverrides, LoadedModel, loadModelFile } from "./modelFile";
import { hintsFromTimmConfig } from "./timmConfig";

/**
 * Where a model comes from, as `model.path` and `hyperat eval --model` name it:
 *   - a `.safetensors` file;
 *   - a folder holding `model.safetensors` (+ `config.json`): a timm local-dir, which is what
 *     every `merged/<strategy>/` export is;
 *   - `hf:owner/name[@rev]`, a Hub snapshot already in the local cache (hfHubCache.ts).
 * A `config.json` beside the weights is read too, so a plain PyTorch `state_dict` saved without
 * HyperAT's `__metadata__` still loads with the right heads and normalization.
 */
export interface ModelSource {
  /** What the user wrote, for messages and reports. */
  spec: string;
  weights: string;
  config?: string;
  /** For `hf:` ids: the pinned form `hf:<repo>@<commit>`. */
  pinned?: string;
}

async function statOf(p: string) {
  return fs.stat(p).catch(() => undefined);
}

/** Resolves a path (relative to `baseDir`) or `hf:` id; errors name the spec and what is missing. */
export async function resolveModelSource(spec: string, baseDir: string = process.cwd()): Promise<ModelSource> {
  if (isHfModelId(spec)) {
    const r = await resolveHfModel(spec);
    return { spec, weights: r.weights, config: r.config, pinned: `hf:${r.id.repo}@${r.commit}` };
  }
  const abs = path.resolve(baseDir, spec);
  const st = await statOf(abs);
  if (!st) throw new Error(`model ${spec}: file not found: ${abs}`);
  if (st.isDirectory()) {
    const weights = path.join(abs, "model.safetensors");
    if (!(await statOf(weights))?.isFile()) throw new Error(`model ${spec}: the folder ${abs} has no model.safetensors (expected a merged/<strategy>/ export or a timm local-dir)`);
    const config = path.join(abs, "config.json");
    return { spec, weights, config: (await statOf(config))?.isFile() ? config : undefined };
  }
  // A timm local-dir named by its weights file keeps its config.json.
  const sibling = path.join(path.dirname(abs), "config.json");
  const config = path.basename(abs) === "model.safetensors" && (await statOf(sibling))?.isFile() ? sibling : undefined;
  return { spec, weights: abs, config };
}

/** Loads the weights with the hints of the config.json beside them (when there is one). */
export async function loadModelSource(src: ModelSource, overrides: LoadOverrides = {}): Promise<LoadedModel> {
  if (!src.config) return loadModelFile(src.weights, overrides);
  const text = await readRegularText(src.config);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${src.config}: not valid JSON (${(e as Error).message})`);
  }
  return loadModelFile(src.weights, { ...overrides, hints: hintsFromTimmConfig(doc, src.config) });
}

/** Resolve + load in one call (CLI eval, run backbones). */
export async function loadModelSpec(spec: string, overrides: LoadOverrides = {}, baseDir?: string): Promise<LoadedModel & { source: ModelSource }> {
  const source = await resolveModelSource(spec, baseDir);
  return { ...(await loadModelSource(source, overrides)), source };
}

export { HfModelError };
