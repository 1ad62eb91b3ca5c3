// One dashboard WebviewPanel per run. The host sends a `snapshot` (the run folder read from disk)
// when the page says `ready` and whenever the run changes state, and forwards the daemon's
// metrics, LoRA norms and evaluations for that run as they arrive. Every message from the page
// is validated (src/protocol/webview.ts) before it can trigger a command.
import * as vscode from "vscode";
import type { HostToWebviewMessage } from "../protocol/webview";
import { isWebviewToHostMessage } from "../protocol/webview";
import { ACTION_COMMANDS, dashboardHtml } from "./dashboardHtml";
import type { RunReader } from "./runExplorer";

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly reader: RunReader,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get openRunIds(): string[] {
    return [...this.panels.keys()];
  }

  show(runId: string): void {
    const existing = this.panels.get(runId);
    if (existing) {
      existing.reveal();
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, "dist", "webview");
    const panel = vscode.window.createWebviewPanel("hyperat.dashboard", `HyperAT: ${runId}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [root],
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, "media", "activity.svg");
    const w = panel.webview;
    w.html = dashboardHtml({
      cspSource: w.cspSource,
      scriptUri: w.asWebviewUri(vscode.Uri.joinPath(root, "main.js")).toString(),
      elementsUri: w.asWebviewUri(vscode.Uri.joinPath(root, "vscode-elements.js")).toString(),
      codiconsUri: w.asWebviewUri(vscode.Uri.joinPath(root, "codicon.css")).toString(),
      runId,
    });
    w.onDidReceiveMessage((m: unknown) => this.onMessage(runId, m));
    panel.onDidDispose(() => this.panels.delete(runId));
    this.panels.set(runId, panel);
  }

  private onMessage(runId: string, m: unknown): void {
    if (!isWebviewToHostMessage(m)) {
      this.log.warn(`dashboard ${runId}: ignored an invalid message`);
      return;
    }
    if (m.type === "ready") {
      void this.sendSnapshot(runId);
      return;
    }
    const args: unknown[] = [runId];
    if (m.action === "merge" && m.strategy) args.push(m.strategy);
    void vscode.commands.executeCommand(ACTION_COMMANDS[m.action], ...args);
  }

  /** Re-reads the run folder and replaces the page's data. */
  async sendSnapshot(runId: string): Promise<void> {
    if (!this.panels.has(runId)) return;
    const detail = await this.reader.readRun(runId).catch((e: Error) => {
      this.log.warn(`dashboard ${runId}: cannot read the run folder: ${e.message}`);
      return undefined;
    });
    if (detail) this.post(runId, { type: "snapshot", detail });
  }

  post(runId: string, message: HostToWebviewMessage): void {
    void this.panels.get(runId)?.webview.postMessage(message);
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
  }
}
