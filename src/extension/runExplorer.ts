// The "Runs" tree (view hyperat.runs). It reads run folders from disk (the daemon may be down)
// and refreshes, throttled, when the daemon reports a status, metric or evaluation.
import * as vscode from "vscode";
import type { RunDetail, RunSummary } from "../protocol/runs";
import { throttle } from "./throttle";
import { groupChildren, runGroups, runNode, type GroupKey, type RunRowLive, type TreeNodeModel } from "./runTree";

/** Reads run folders; runStore.ts's pure readers in production, fakes in tests. */
export interface RunReader {
  listRuns(): Promise<RunSummary[]>;
  readRun(runId: string): Promise<RunDetail | undefined>;
}

const REFRESH_EVERY_MS = 300;

export class RunExplorer implements vscode.TreeDataProvider<TreeNodeModel>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNodeModel | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private details = new Map<string, RunDetail>();
  /** The latest list, for commands that pick a run. */
  runs: RunSummary[] = [];

  /** What a run's row knows beyond run.json: the open operation, warnings (extension.ts). */
  liveOf: (runId: string) => RunRowLive = () => ({});

  constructor(readonly reader: RunReader) {}

  /** Coalesces notifications (one per step) into at most one re-read per 300 ms. A debounce
   * here starved: with steps under 300 ms apart the tree never refreshed while training. */
  readonly scheduleRefresh = throttle(REFRESH_EVERY_MS, () => this.refresh());

  refresh(): void {
    this.details.clear();
    this.changed.fire(undefined);
  }

  async getChildren(node?: TreeNodeModel): Promise<TreeNodeModel[]> {
    if (!node) {
      this.runs = await this.reader.listRuns().catch(() => []);
      return this.runs.map((r) => runNode(r, this.liveOf(r.id)));
    }
    const detail = await this.detail(node.runId);
    if (!detail) return [];
    if (node.id === `run:${node.runId}`) return runGroups(detail);
    const key = node.id.slice(`run:${node.runId}/`.length) as GroupKey;
    return groupChildren(detail, key);
  }

  private async detail(runId: string): Promise<RunDetail | undefined> {
    const cached = this.details.get(runId);
    if (cached) return cached;
    const d = await this.reader.readRun(runId).catch(() => undefined);
    if (d) this.details.set(runId, d);
    return d;
  }

  getTreeItem(node: TreeNodeModel): vscode.TreeItem {
    const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState[node.collapsible === "none" ? "None" : node.collapsible === "expanded" ? "Expanded" : "Collapsed"]);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(node.icon, node.iconColor ? new vscode.ThemeColor(node.iconColor) : undefined);
    item.contextValue = node.contextValue;
    if (node.file) {
      item.resourceUri = vscode.Uri.file(node.file);
      if (node.contextValue === "hyperat.report") item.command = { command: "vscode.open", title: "Open", arguments: [item.resourceUri] };
    } else if (node.contextValue.startsWith("hyperat.run.")) {
      item.command = { command: "hyperat.openDashboard", title: "Open Dashboard", arguments: [node] };
    }
    return item;
  }

  dispose(): void {
    this.scheduleRefresh.cancel();
    this.changed.dispose();
  }
}
