// The "Runs" tree (view hyperat.runs). It reads run folders from disk (the daemon may be down)
// and refreshes, throttled, when the daemon reports a status, metric or evaluation.
import * as vscode from "vscode";
import type { RunDetail, RunSummary } from "../protocol/runs";
import { throttle } from "./throttle";
import { groupChildren, runGroups, runNode, type GroupKey, type RunRowLive, type TreeNodeModel } from "./runTree";
import { configGroupNode, groupRunsByConfig, type RunGrouping } from "./runGrouping";

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

  /** How the top level is grouped (setting hyperat.runs.groupBy, read by extension.ts). */
  groupBy: () => RunGrouping = () => "none";

  /** Each config group's runs from the last top-level read, so a group's children match the
   * counts its row showed. */
  private groups = new Map<string, RunSummary[]>();

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
      if (this.groupBy() !== "config") return this.runs.map((r) => runNode(r, this.liveOf(r.id)));
      const groups = groupRunsByConfig(this.runs);
      this.groups = new Map(groups.map((g) => [g.key, g.runs]));
      return groups.map(configGroupNode);
    }
    if (node.groupKey !== undefined) {
      return (this.groups.get(node.groupKey) ?? []).map((r) => runNode(r, this.liveOf(r.id), new Date(), { underConfigGroup: true }));
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
    item.tooltip = node.note ? noteTooltip(node.tooltip ?? "", node.note) : node.tooltip;
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

/** The row's facts as plain text, then the user's note rendered as Markdown (untrusted: no
 * command links, no HTML, no icons, so a note cannot run anything). */
function noteTooltip(text: string, note: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, false);
  md.isTrusted = false;
  md.supportHtml = false;
  md.appendText(text);
  md.appendMarkdown(`\n\n---\n\n${note}`);
  return md;
}
