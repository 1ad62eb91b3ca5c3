import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { COMMIT, HfModelError, HfModelId, downloadCommand, parseHfModelId } from "../model/hfModelId";

export { HfModelError, isHfModelId, parseHfModelId, downloadCommand } from "../model/hfModelId";
export type { HfModelId } from "../model/hfModelId";

/**
 * `hf:<repo>[@<revision>]` model ids, resolved OFFLINE from the local Hugging Face Hub cache,
 * the folder `huggingface_hub` itself downloads into (its `constants.py`):
 *   $HF_HUB_CACHE › $HUGGINGFACE_HUB_CACHE › $HF_HOME/hub › $XDG_CACHE_HOME/huggingface/hub ›
 *   ~/.cache/huggingface/hub
 * with the layout `models--<owner>--<name>/refs/<branch>` (a commit hash) and
 * `snapshots/<commit>/{model.safetensors,config.json}`. Nothing is ever downloaded at run time:
 * a model that is not cached fails with the exact command that fetches it.
 */

export interface HfResolved {
  id: HfModelId;
  /** The commit the revision points to in the cache. */
  commit: string;
  snapshotDir: string;
  weights: string;
  /** `config.json` of the snapshot, when the cache holds it. */
  config?: string;
}

/** The cache folder `huggingface_hub` uses in this environment. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  if (env.HF_HOME) return path.join(env.HF_HOME, "hub");
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, "huggingface", "hub");
  return path.join(home, ".cache", "huggingface", "hub");
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** Resolves an `hf:` id inside the cache; throws HfModelError naming the cache and the command. */
export async function resolveHfModel(text: string, env: NodeJS.ProcessEnv = process.env, home?: string): Promise<HfResolved> {
  const id = parseHfModelId(text);
  const cache = hubCacheDir(env, home);
  const repoDir = path.join(cache, `models--${id.repo.split("/").join("--")}`);
  const command = downloadCommand(id);
  const missing = (what: string) =>
    new HfModelError(`${text}: ${what} in the Hugging Face cache ${cache} (HyperAT never downloads at run time); fetch it with: ${command}`, command);
  const rev = id.revision ?? "main";
  let commit: string;
  if (COMMIT.test(rev)) commit = rev;
  else {
    try {
      commit = (await fs.readFile(path.join(repoDir, "refs", ...rev.split("/")), "utf8")).trim();
    } catch {
      throw missing(`no ${id.revision ? `revision "${rev}"` : "model"} (${path.join(repoDir, "refs", rev)} is missing)`);
    }
    if (!COMMIT.test(commit)) throw new HfModelError(`${text}: ${path.join(repoDir, "refs", rev)} holds "${commit.slice(0, 60)}", not a commit hash; the cache is damaged: ${command}`, command);
  }
  const snapshotDir = path.join(repoDir, "snapshots", commit);
  const weights = path.join(snapshotDir, "model.safetensors");
  if (!(await isFile(weights))) {
    if (await isFile(path.join(snapshotDir, "model.safetensors.index.json"))) {
      throw new HfModelError(`${text}: the snapshot ${snapshotDir} holds sharded weights (model.safetensors.index.json); HyperAT reads one model.safetensors file`);
    }
    if (await isFile(path.join(snapshotDir, "pytorch_model.bin"))) {
      throw new HfModelError(`${text}: the snapshot ${snapshotDir} has only pytorch_model.bin; HyperAT reads safetensors only (never unpickles): ${command}`, command);
    }
    throw missing(`no model.safetensors for commit ${commit}`);
  }
  const config = path.join(snapshotDir, "config.json");
  return { id, commit, snapshotDir, weights, config: (await isFile(config)) ? config : undefined };
}
