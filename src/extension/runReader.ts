// The run explorer's RunReader over the run store's pure folder readers (src/daemon/runStore.ts),
// so the tree, the decorations and the dashboards work while the daemon is down.
import { join } from "node:path";
import { listRunSummaries, readRunDetail } from "../daemon/runStore";
import type { RunReader } from "./runExplorer";

export function diskRunReader(runsDir: () => string | undefined, onError: (dir: string, e: Error) => void = () => {}): RunReader {
  return {
    async listRuns() {
      const dir = runsDir();
      return dir ? listRunSummaries(dir, onError) : [];
    },
    async readRun(runId) {
      const dir = runsDir();
      return dir ? readRunDetail(join(dir, runId)) : undefined;
    },
  };
}
