// The run explorer's RunReader over the run store's pure folder readers (src/daemon/runStore.ts),
// so the tree, the decorations and the dashboards work while the daemon is down. A run id is
// resolved the way the daemon resolves it (src/daemon/runPaths.ts): grammar-checked, a real
// folder directly inside the runs folder, never a symlink out, and never run.json's `id` as a path.
import { listRunSummaries, readRunDetail } from "../daemon/runStore";
import { resolveRunDir } from "../daemon/runPaths";
import type { RunReader } from "./runExplorer";

export function diskRunReader(runsDir: () => string | undefined, onError: (dir: string, e: Error) => void = () => {}): RunReader {
  return {
    async listRuns() {
      const dir = runsDir();
      return dir ? listRunSummaries(dir, onError) : [];
    },
    async readRun(runId) {
      const dir = runsDir();
      return dir ? readRunDetail(await resolveRunDir(dir, runId)) : undefined;
    },
  };
}
