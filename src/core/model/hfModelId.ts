/**
 * `hf:<repo>[@<revision>]` model ids: syntax only (no I/O), so config validation can check them;
 * hfHubCache.ts resolves them in the local cache.
 */
export const HF_PREFIX = "hf:";

export interface HfModelId {
  /** `owner/name` (or a legacy id without owner). */
  repo: string;
  /** Branch, tag or 40-hex commit; undefined means `main`. */
  revision?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const COMMIT = /^[0-9a-f]{40}$/;

/** A bad `hf:` id, or a model that is not in the cache; `command` fetches it when that helps. */
export class HfModelError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = "HfModelError";
  }
}

export function isHfModelId(text: string): boolean {
  return text.startsWith(HF_PREFIX);
}

/** Parses `hf:owner/name[@rev]`; the error names the id and what is wrong with it. */
export function parseHfModelId(text: string): HfModelId {
  if (!isHfModelId(text)) throw new HfModelError(`"${text}" is not a Hugging Face id (expected hf:owner/name[@revision])`);
  const body = text.slice(HF_PREFIX.length);
  const at = body.indexOf("@");
  const repo = at < 0 ? body : body.slice(0, at);
  const revision = at < 0 ? undefined : body.slice(at + 1);
  const parts = repo.split("/");
  if (parts.length > 2 || !parts.every((p) => NAME.test(p) && !p.includes("..") && !p.includes("--"))) {
    throw new HfModelError(`"${text}": "${repo}" is not a Hub repo id (owner/name of letters, digits, ".", "_", "-"; no "--" or "..")`);
  }
  if (revision !== undefined && (revision === "" || !revision.split("/").every((p) => NAME.test(p) && !p.includes("..")))) {
    throw new HfModelError(`"${text}": revision "${revision}" is not a branch, tag or commit name`);
  }
  return { repo, revision };
}

/** The commands that put the model's two files into that cache. */
export function downloadCommand(id: HfModelId): string {
  const rev = id.revision ? ` --revision ${id.revision}` : "";
  const pyRev = id.revision ? `, revision='${id.revision}'` : "";
  return (
    `huggingface-cli download ${id.repo} model.safetensors config.json${rev}` +
    `   (or: python -c "from huggingface_hub import hf_hub_download as d; [d('${id.repo}', f${pyRev}) for f in ('model.safetensors', 'config.json')]")`
  );
}
