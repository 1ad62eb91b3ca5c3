import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ConfigError, parseConfigText, validateConfig } from "../../core/config/validate";
import { RunConfig } from "../../core/config/types";
import { ResolvedRunConfig } from "../engine";
import { MissingFileError } from "../errors";
import { dataSpecPath, resolveDataSpec } from "../../core/data/spec";
import { checkDisjointSplits, DataSpecError } from "../../core/data/overlap";
import { HfModelError, isHfModelId, resolveHfModel } from "../../core/io/hfHubCache";

/**
 * Makes every path in the config absolute (relative to the config file's folder) and pins `hf:`
 * model ids to the cached commit, so the frozen copy in a run folder means the same thing
 * wherever the daemon runs, and checks that the files exist — naming the JSON path of the one
 * that does not — and that the splits share no samples.
 */
async function resolvePaths(cfg: RunConfig, baseDir: string, configFile?: string): Promise<RunConfig> {
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const must = async (p: string, jsonPath: string) => {
    try {
      await fs.access(p);
    } catch {
      throw new MissingFileError(p, jsonPath);
    }
  };
  if (cfg.model.path && isHfModelId(cfg.model.path)) {
    // Pinned to the cached commit, so the frozen copy (and a resume) means the same weights.
    try {
      const r = await resolveHfModel(cfg.model.path);
      cfg.model.path = `hf:${r.id.repo}@${r.commit}`;
    } catch (e) {
      if (e instanceof HfModelError) throw new ConfigError("/model/path", e.message, configFile);
      throw e;
    }
  } else if (cfg.model.path) {
    cfg.model.path = abs(cfg.model.path);
    await must(cfg.model.path, "/model/path");
  }
  for (const split of ["train", "val", "test"] as const) {
    const spec = cfg.data[split];
    if (typeof spec !== "string") continue; // { from: "train", n }: drawn from data.train
    cfg.data[split] = resolveDataSpec(spec, baseDir);
    const file = dataSpecPath(cfg.data[split] as string);
    if (file !== undefined) await must(file, `/data/${split}`);
  }
  try {
    checkDisjointSplits(cfg.data);
  } catch (e) {
    if (e instanceof DataSpecError) throw new ConfigError(e.jsonPath, e.detail, configFile);
    throw e;
  }
  if (cfg.model.pretrain) cfg.model.pretrain.cacheDir = abs(cfg.model.pretrain.cacheDir ?? path.join(".hyperat", "cache"));
  return cfg;
}

export function toResolved(cfg: RunConfig): ResolvedRunConfig {
  return {
    name: cfg.name,
    method: cfg.method,
    defenses: cfg.defenses.map((d) => d.name),
    totalSteps: cfg.training.steps,
    checkpointEvery: cfg.training.checkpointEvery,
    backend: cfg.backend,
    raw: cfg,
  };
}

/** Reads, validates (schema + semantics) and resolves a `*.hyperat.json`. */
export async function loadConfigFile(configPath: string): Promise<RunConfig> {
  let text: string;
  try {
    text = await fs.readFile(configPath, "utf8");
  } catch {
    throw new MissingFileError(configPath);
  }
  const cfg = parseConfigText(text, configPath);
  return resolvePaths(cfg, path.dirname(path.resolve(configPath)), configPath);
}

/** The frozen copy in a run folder (already resolved when the run started). */
export async function loadFrozenConfigFile(runDir: string): Promise<RunConfig> {
  const file = path.join(runDir, "config.json");
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    throw new MissingFileError(file);
  }
  return validateConfig(JSON.parse(text), file);
}
