// Delete Run and Archive Run (issue 16 item 7: a stopped 1-step run cluttered the tree forever
// and became its config's "latest run"). Removes or moves exactly one run folder: the id must be
// a valid run id, the folder a real directory (not a link) directly inside the runs folder with
// a run.json, and the run settled (no process works on it). Archived runs go to
// `.hyperat/archive/<id>`, outside the runs folder the tree lists. Node I/O only, no vscode.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { readRunSummary } from "../daemon/runStore";
import { isValidRunId, RUN_ID_RULE } from "../protocol/runs";
import { RUN_COMMAND_STATES } from "../protocol/runStates";

export type RemovalMode = "delete" | "archive";

/** `<workspace>/.hyperat/archive`, next to the runs folder. */
export function archiveDirOf(runsDir: string): string {
  return path.join(path.dirname(runsDir), "archive");
}

/** Checks, then deletes or archives the run folder; returns the folder removed (or its new place). */
export async function removeRun(runsDir: string, runId: string, mode: RemovalMode): Promise<string> {
  if (!isValidRunId(runId)) throw new Error(`"${runId}" is not a run id (${RUN_ID_RULE})`);
  const dir = path.join(runsDir, runId);
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st) throw new Error(`no run folder ${dir}`);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${dir} is not a plain folder (a link or a file); nothing was removed`);
  const [realDir, realRuns] = await Promise.all([fs.realpath(dir), fs.realpath(runsDir)]);
  if (path.dirname(realDir) !== realRuns) throw new Error(`${dir} is not directly inside ${runsDir}; nothing was removed`);
  const run = await readRunSummary(dir).catch((e: Error) => {
    throw new Error(`${dir} is not a readable run folder (${e.message}); nothing was removed`);
  });
  if (!RUN_COMMAND_STATES.remove.includes(run.state)) {
    throw new Error(`run ${runId} is ${run.state}; pause or stop it first (only ${RUN_COMMAND_STATES.remove.join(", ")} runs can be removed)`);
  }
  if (mode === "delete") {
    // rm removes links inside the folder without following them.
    await fs.rm(realDir, { recursive: true });
    return realDir;
  }
  const archive = archiveDirOf(realRuns);
  await fs.mkdir(archive, { recursive: true });
  const target = path.join(archive, runId);
  if (await fs.lstat(target).catch(() => undefined)) throw new Error(`${target} already exists; nothing was moved`);
  await fs.rename(realDir, target);
  return target;
}
