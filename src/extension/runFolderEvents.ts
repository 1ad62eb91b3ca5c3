// Routes file events under .hyperat/runs/ to the views, for runs the daemon does not report on
// (started with the CLI in a terminal, or written by another machine to a shared folder): a
// changed run.json refreshes the tree and the dashboard header, appended metrics.jsonl lines are
// followed from the last offset. Runs the daemon reports on are skipped: its notifications are
// already live and following them too would show every event twice. Pure (no vscode import).
import * as path from "node:path";
import { throttle, type Throttled } from "./throttle";

export type RunFile = "run.json" | "metrics.jsonl";

/** The run a watched path belongs to: `<runsDir>/<runId>/(run.json|metrics.jsonl)` only. */
export function runFileOf(runsDir: string, fsPath: string): { runId: string; file: RunFile } | undefined {
  const rel = path.relative(runsDir, fsPath);
  const parts = rel.split(path.sep);
  if (parts.length !== 2 || parts[0] === ".." || parts[0].startsWith(".") || path.isAbsolute(rel)) return undefined;
  const [runId, file] = parts;
  return file === "run.json" || file === "metrics.jsonl" ? { runId, file } : undefined;
}

export interface RunFolderHandlers {
  /** run.json changed: state or step moved (refresh the tree, the dashboard header). */
  runChanged(runId: string): void;
  /** metrics.jsonl grew: read its new lines. */
  metricsAppended(runId: string): void;
  /** Whether the connected daemon reports on this run (its notifications cover it). */
  daemonOwns(runId: string): boolean;
}

/** How often one run's changes are passed on at most: a CLI run appends every step. */
export const RUN_EVENT_THROTTLE_MS = 250;

export class RunFolderEvents {
  private readonly pending = new Map<string, Throttled>();

  constructor(
    private readonly runsDir: string,
    private readonly handlers: RunFolderHandlers,
    /** How one run's calls are rate-limited (tests pass a manual one). */
    private readonly limit: (f: () => void) => Throttled = (f) => throttle(RUN_EVENT_THROTTLE_MS, f),
  ) {}

  /** A watcher event (create or change) for `fsPath`. */
  onFile(fsPath: string): void {
    const hit = runFileOf(this.runsDir, fsPath);
    if (!hit || this.handlers.daemonOwns(hit.runId)) return;
    const key = `${hit.runId}/${hit.file}`;
    let t = this.pending.get(key);
    if (!t) {
      t = this.limit(() =>
        hit.file === "run.json" ? this.handlers.runChanged(hit.runId) : this.handlers.metricsAppended(hit.runId),
      );
      this.pending.set(key, t);
    }
    t();
  }

  dispose(): void {
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
  }
}
