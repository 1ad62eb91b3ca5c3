// Routes file events under .hyperat/runs/ to the views, for runs the daemon does not report on
// (started with the CLI in a terminal, or written by another machine to a shared folder): a
// changed run.json refreshes the tree and the dashboard header, appended metrics.jsonl lines are
// followed from the last offset. Runs the daemon reports on are skipped: its notifications are
// already live and following them too would show every event twice. annotations.json (a run's
// label, tags and note, src/daemon/runAnnotations.ts) is passed on for every run: the daemon
// never writes or reports it, and another window may edit it. Pure (no vscode import).
import * as path from "node:path";
import { throttle, type Throttled } from "./throttle";

export type RunFile = "run.json" | "metrics.jsonl" | "annotations.json";

const RUN_FILES: readonly string[] = ["run.json", "metrics.jsonl", "annotations.json"] satisfies RunFile[];

/** The files the watcher's glob covers (extension.ts), in RelativePattern syntax. */
export const RUN_FILES_GLOB = `*/{${RUN_FILES.join(",")}}`;

/** The run a watched path belongs to: `<runsDir>/<runId>/(run.json|metrics.jsonl|annotations.json)` only. */
export function runFileOf(runsDir: string, fsPath: string): { runId: string; file: RunFile } | undefined {
  const rel = path.relative(runsDir, fsPath);
  const parts = rel.split(path.sep);
  if (parts.length !== 2 || parts[0] === ".." || parts[0].startsWith(".") || path.isAbsolute(rel)) return undefined;
  const [runId, file] = parts;
  return RUN_FILES.includes(file) ? { runId, file: file as RunFile } : undefined;
}

export interface RunFolderHandlers {
  /** run.json changed: state or step moved (refresh the tree, the dashboard header). */
  runChanged(runId: string): void;
  /** metrics.jsonl grew: read its new lines. */
  metricsAppended(runId: string): void;
  /** annotations.json was written or removed: the label, tags or note changed. */
  annotationsChanged(runId: string): void;
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
    if (!hit || (hit.file !== "annotations.json" && this.handlers.daemonOwns(hit.runId))) return;
    this.pass(hit.runId, hit.file);
  }

  /** A watcher delete event: only a removed annotations.json (everything cleared) is news here;
   * a removed run folder refreshes the whole tree (extension.ts). */
  onDeleted(fsPath: string): void {
    const hit = runFileOf(this.runsDir, fsPath);
    if (hit?.file === "annotations.json") this.pass(hit.runId, hit.file);
  }

  private pass(runId: string, file: RunFile): void {
    const key = `${runId}/${file}`;
    let t = this.pending.get(key);
    if (!t) {
      const h = this.handlers;
      t = this.limit(() => (file === "run.json" ? h.runChanged(runId) : file === "metrics.jsonl" ? h.metricsAppended(runId) : h.annotationsChanged(runId)));
      this.pending.set(key, t);
    }
    t();
  }

  dispose(): void {
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
  }
}
