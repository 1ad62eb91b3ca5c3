// Everything the commands and views share: the workspace folder, settings, the daemon client,
// the run explorer, the status bar, the selected config and the open dashboards.
import * as vscode from "vscode";
import { runsDirOf } from "../daemon/runStore";
import type { RunSummary } from "../protocol/runs";
import type { DaemonClient } from "./daemonClient";
import type { DashboardPanels } from "./dashboardPanel";
import type { RunExplorer } from "./runExplorer";
import { settingsFrom, type Settings } from "./settings";
import type { StatusBar } from "./statusBar";
import type { TreeNodeModel } from "./runTree";
import type { ProgressTracker } from "./progressTracker";
import type { DaemonConfigErrors } from "./daemonConfigErrors";
import { RunWatch } from "./runWatch";

const SELECTED_CONFIG_KEY = "hyperat.selectedConfig";

export class Ctx {
  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    /** undefined when no folder is open: commands then explain that they need one. */
    readonly workspaceFolder: string | undefined,
    readonly daemon: DaemonClient | undefined,
    readonly explorer: RunExplorer,
    readonly statusBar: StatusBar,
    readonly dashboards: DashboardPanels,
    /** Early warnings per run (flat loss, base model near chance), fed by the daemon's stream and,
     * for runs it does not stream, by their metrics.jsonl (diskRunWatch.ts). */
    readonly watch: RunWatch = new RunWatch(),
  ) {}

  get settings(): Settings {
    const c = vscode.workspace.getConfiguration("hyperat");
    return settingsFrom((k) => c.get(k));
  }

  /** `<workspace>/.hyperat/runs`, where the daemon keeps runs; undefined without a workspace. */
  get runsDir(): string | undefined {
    return this.workspaceFolder ? runsDirOf(this.workspaceFolder) : undefined;
  }

  get selectedConfig(): vscode.Uri | undefined {
    const s = this.extension.workspaceState.get<string>(SELECTED_CONFIG_KEY);
    return s ? vscode.Uri.parse(s) : undefined;
  }

  async setSelectedConfig(uri: vscode.Uri | undefined): Promise<void> {
    await this.extension.workspaceState.update(SELECTED_CONFIG_KEY, uri?.toString());
    this.onSelectedConfig.fire(uri);
  }

  readonly onSelectedConfig = new vscode.EventEmitter<vscode.Uri | undefined>();

  /** The daemon's progress notifications mapped onto progress UI (set by extension.ts). */
  progress?: ProgressTracker;

  /** A command changed a run's annotations.json (annotationCommands.ts); the watcher reports
   * edits from elsewhere. extension.ts refreshes the views on either. */
  readonly onDidAnnotateRun = new vscode.EventEmitter<string>();

  /** Runs whose pause this window asked for: their `paused` status raises a notice. */
  readonly pausesAwaited = new Set<string>();

  /** The daemon's config errors as diagnostics (set by extension.ts). */
  configErrors?: DaemonConfigErrors;

  /** A run id from a command argument: a tree node, a run id string, or a run summary. */
  static runIdFrom(arg: unknown): string | undefined {
    if (typeof arg === "string") return arg || undefined;
    if (arg && typeof arg === "object") {
      const o = arg as Partial<TreeNodeModel & RunSummary>;
      // A config group node has runId "" (runGrouping.ts): it names no run.
      if (typeof o.runId === "string") return o.runId || undefined;
      if (typeof o.id === "string" && typeof o.state === "string") return o.id;
    }
    return undefined;
  }
}
