import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ConfigError } from "../../core/config/configError";
import { parseConfigText } from "../../core/config/validate";
import { RunConfig } from "../../core/config/types";
import { ResolvedRunConfig } from "../compute/contract";
import { MissingFileError } from "../errors";
import { resolveDataSpec } from "../../core/data/spec";
import { dataSpecPath } from "../../core/data/specSyntax";
import { checkDisjointSplits, DataSpecError } from "../../core/data/overlap";
import { NotRegularFileError, readRegularText } from "../../core/io/regularFile";
import { preflight, PreflightFacts } from "../preflight";
import { HfModelError, isHfModelId, resolveHfModel } from "../../core/io/hfHubCache";

/** A config is a few KiB; refuse anything that could not be one before reading it. */
const MAX_CONFIG_BYTES = 16 * 2 ** 20;

/**
 * Config text from a regular file only: a FIFO named `x.hyperat.json` would block `readFile`
 * until a writer came (issue 15), `/dev/zero` would never end.
 */
async function readConfigText(file: string): Promise<string> {
  try {
    return await readRegularText(file, { what: "config file", maxBytes: MAX_CONFIG_BYTES });
  } catch (e) {
    if (e instanceof NotRegularFileError) throw new ConfigError("", e.message, file);
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || /ENOENT/.test((e as Error).message)) throw new MissingFileError(file);
    throw new ConfigError("", (e as Error).message, file);
  }
}

/** A problem resolvePaths found at a JSON path (a file that does not exist is a MissingFileError). */
export type PathProblem = ConfigError | MissingFileError;

/**
 * Makes every path in the config absolute (relative to the config file's folder) and pins `hf:`
 * model ids to the cached commit, so the frozen copy in a run folder means the same thing
 * wherever the daemon runs, and checks that the files exist — naming the JSON path of the one
 * that does not — and that the splits share no samples. With `report`, each problem goes there
 * and the rest is still checked (the editor shows them all, src/daemon/configCheck.ts); without,
 * the first one is thrown.
 */
export async function resolvePaths(cfg: RunConfig, baseDir: string, configFile?: string, report?: (p: PathProblem) => void): Promise<RunConfig> {
  const fail = (p: PathProblem) => {
    if (!report) throw p;
    report(p);
  };
  const abs = (p: string) => (path.isAbsolute(p) ? p : path.resolve(baseDir, p));
  const must = async (p: string, jsonPath: string): Promise<boolean> => {
    try {
      await fs.access(p);
      return true;
    } catch {
      fail(new MissingFileError(p, jsonPath, configFile));
      return false;
    }
  };
  if (cfg.model.path && isHfModelId(cfg.model.path)) {
    // Pinned to the cached commit, so the frozen copy (and a resume) means the same weights.
    try {
      const r = await resolveHfModel(cfg.model.path);
      cfg.model.path = `hf:${r.id.repo}@${r.commit}`;
    } catch (e) {
      if (!(e instanceof HfModelError)) throw e;
      fail(new ConfigError("/model/path", e.message, configFile));
    }
  } else if (cfg.model.path) {
    cfg.model.path = abs(cfg.model.path);
    await must(cfg.model.path, "/model/path");
  }
  let splitsOk = true;
  for (const split of ["train", "val", "test"] as const) {
    const spec = cfg.data[split];
    if (typeof spec !== "string") continue; // { from: "train", n }: drawn from data.train
    let file: string | undefined;
    try {
      cfg.data[split] = resolveDataSpec(spec, baseDir);
      file = dataSpecPath(cfg.data[split] as string);
    } catch (e) {
      splitsOk = false;
      fail(new ConfigError(`/data/${split}`, (e as Error).message, configFile)); // malformed spec: empty path, a parameter twice
      continue;
    }
    if (file !== undefined && !(await must(file, `/data/${split}`))) splitsOk = false;
  }
  if (splitsOk) {
    try {
      checkDisjointSplits(cfg.data);
    } catch (e) {
      if (!(e instanceof DataSpecError)) throw e;
      fail(new ConfigError(e.jsonPath, e.detail, configFile));
    }
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

/**
 * Reads, validates (schema + semantics) and resolves a `*.hyperat.json`, then runs the up-front
 * pass (src/daemon/preflight.ts: attacks, data indexes, model header, bounds), so a config that
 * cannot train fails here, before `RunManager.start` creates a run folder.
 */
export async function loadConfigFile(configPath: string): Promise<RunConfig> {
  return (await loadConfigWithFacts(configPath)).cfg;
}

/** loadConfigFile plus what the pass learned (data sizes, model widths, attacks): `hyperat check`. */
export async function loadConfigWithFacts(configPath: string): Promise<{ cfg: RunConfig; facts: PreflightFacts }> {
  const text = await readConfigText(configPath);
  const cfg = await resolvePaths(parseConfigText(text, configPath), path.dirname(path.resolve(configPath)), configPath);
  return { cfg, facts: await preflight(cfg, configPath) };
}

/** The frozen copy in a run folder (already resolved when the run started). */
export async function loadFrozenConfigFile(runDir: string): Promise<RunConfig> {
  const file = path.join(runDir, "config.json");
  return parseConfigText(await readConfigText(file), file);
}

/**
 * Before a resume: the frozen config against the files as they are now. Data files, the model
 * file, the pretraining cache folder can have changed since the run started (deleted, replaced
 * by a directory, made read-only); the same pass as at start names the JSON path of
 * runDir/config.json. Reads only: nothing in the run folder is written.
 */
export async function recheckFrozenConfigFile(runDir: string): Promise<RunConfig> {
  const file = path.join(runDir, "config.json");
  const cfg = await resolvePaths(parseConfigText(await readConfigText(file), file), runDir, file);
  await preflight(cfg, file);
  return cfg;
}
