// Where a run may live and what the daemon may write in it. A run id names a folder directly
// inside the runs folder: it is checked against the id grammar, the folder must be a real
// directory (not a symlink) whose real path is inside the real runs folder, and the files and
// sub-folders the daemon writes must not be symlinks either, so no request reads or writes
// outside `.hyperat/runs` (issue 17). run.json's `id` is never used as a path.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { isValidRunId, RUN_ID_RULE } from "../protocol/runs";
import { UnknownRunError } from "./errors";

/** Files and folders of a run that the daemon writes (appends follow symlinks, renames do not). */
export const WRITTEN_ENTRIES = ["metrics.jsonl", "checkpoints", "adapters", "merged", "report.json", "report.md", "examples.safetensors", "run.json", "config.json"] as const;

/** A path that leaves the runs folder or is a symlink; `what` names it. */
export class RunPathError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "RunPathError";
  }
}

/**
 * The real path of the run folder `<runsDir>/<runId>`, or UnknownRunError when the id does not
 * follow the grammar, the folder does not exist, or it is a symlink or leads outside `runsDir`.
 */
export async function resolveRunDir(runsDir: string, runId: string): Promise<string> {
  if (!isValidRunId(runId)) throw new UnknownRunError(runId, `not a run id (${RUN_ID_RULE})`);
  const candidate = path.join(runsDir, runId);
  const st = await fs.lstat(candidate).catch(() => undefined);
  if (!st) throw new UnknownRunError(runId);
  if (st.isSymbolicLink()) throw new UnknownRunError(runId, `${candidate} is a symlink; runs are only read and written inside ${runsDir}`);
  if (!st.isDirectory()) throw new UnknownRunError(runId, `${candidate} is not a folder`);
  const [realRuns, realDir] = await Promise.all([fs.realpath(runsDir), fs.realpath(candidate)]);
  if (path.dirname(realDir) !== realRuns) throw new UnknownRunError(runId, `${candidate} resolves to ${realDir}, outside ${realRuns}`);
  return realDir;
}

/** Refuses a run folder whose written files or sub-folders are symlinks (they would carry
 * writes elsewhere). Missing entries are fine: they are created as plain files and folders. */
export async function assertNoSymlinks(dir: string): Promise<void> {
  for (const name of WRITTEN_ENTRIES) {
    const p = path.join(dir, name);
    const st = await fs.lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink()) throw new RunPathError(p, "is a symlink; a run's files must be inside its folder (remove the link or copy what it points to)");
  }
}
