// One dashboard WebviewPanel per run. The host sends a `snapshot` (the run folder read from disk)
// when the page says `ready` and whenever the run changes state, and forwards the daemon's
// metrics, LoRA norms and evaluations for that run as they arrive. Every message from the page
// is validated (src/protocol/webview.ts) before it can trigger a command. After a window reload
// VS Code hands the pages back through the serializer (`restore`), keyed by the run id each page
// saved with setState.
import * as vscode from "vscode";
import { parseDashboardState } from "./dashboardState";
import type { ExampleStrip, HostToWebviewMessage } from "../protocol/webview";
import { stat } from "node:fs/promises";
import { isWebviewToHostMessage } from "../protocol/webview";
import { ACTION_COMMANDS, dashboardHtml } from "./dashboardHtml";
import type { RunReader } from "./runExplorer";
import { join } from "node:path";
import { METRICS_FILE } from "../daemon/runStore";
import { RunFollower } from "./runFollower";
import { readExampleStrips } from "./exampleStrip";
import { EXAMPLES_FILE } from "../core/evaluate/examplesFile";

export const DASHBOARD_VIEW_TYPE = "hyperat.dashboard";

export class DashboardPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  /** Per open dashboard: its run's metrics.jsonl, streamed and then followed (runFollower.ts). */
  private readonly followers = new Map<string, RunFollower>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly reader: RunReader,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get openRunIds(): string[] {
    return [...this.panels.keys()];
  }

  /** Closes the run's dashboard (its folder was deleted or archived). */
  close(runId: string): void {
    this.panels.get(runId)?.dispose();
  }

  show(runId: string): void {
    const existing = this.panels.get(runId);
    if (existing) {
      existing.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, `HyperAT: ${runId}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [this.webviewRoot()],
    });
    this.adopt(runId, panel);
  }

  /** VS Code restoring a dashboard after a reload: same run, fresh page and data. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const restored = parseDashboardState(state);
    if (!restored || this.panels.has(restored.runId) || !(await this.reader.readRun(restored.runId).catch(() => undefined))) {
      this.log.info(`dashboard not restored: ${restored ? `run ${restored.runId} is gone or already open` : "no run id in its saved state"}`);
      panel.dispose();
      return;
    }
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.webviewRoot()] };
    this.adopt(restored.runId, panel);
  }

  private webviewRoot(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, "dist", "webview");
  }

  private adopt(runId: string, panel: vscode.WebviewPanel): void {
    const root = this.webviewRoot();
    panel.title = `HyperAT: ${runId}`;
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
    panel.onDidDispose(() => {
      this.panels.delete(runId);
      this.followers.delete(runId);
      this.examples.delete(runId);
    });
    this.panels.set(runId, panel);
  }

  private onMessage(runId: string, m: unknown): void {
    if (!isWebviewToHostMessage(m)) {
      this.log.warn(`dashboard ${runId}: ignored an invalid message`);
      return;
    }
    if (m.type === "ready") {
      void this.sendSnapshot(runId).then(() => this.loadHistory(runId));
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
    if (!detail) return;
    // The tab says the display name once the run has one (Rename Run…), else the id as before.
    const panel = this.panels.get(runId);
    if (panel) panel.title = `HyperAT: ${detail.annotations?.displayName ?? runId}`;
    this.post(runId, { type: "snapshot", detail });
    // Not a tree artifact (a binary file to look at in the dashboard, not to open): read if there.
    const strips = await this.examplesOf(runId, detail.dir).catch((e: Error) => {
      this.log.warn(`dashboard ${runId}: cannot read ${EXAMPLES_FILE}: ${e.message}`);
      return undefined;
    });
    if (strips) this.post(runId, { type: "examples", strips });
  }

  /** Encoded strips per open dashboard, kept while examples.safetensors is unchanged: a snapshot is
   * sent on every state change, and at 224 px re-encoding a few hundred PNGs each time is slow. */
  private readonly examples = new Map<string, { stamp: string; strips: ExampleStrip[] | undefined }>();

  private async examplesOf(runId: string, dir: string): Promise<ExampleStrip[] | undefined> {
    const st = await stat(join(dir, EXAMPLES_FILE)).catch(() => undefined);
    if (!st) return undefined;
    const stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    const cached = this.examples.get(runId);
    if (cached?.stamp === stamp) return cached.strips;
    const strips = await readExampleStrips(dir);
    this.examples.set(runId, { stamp, strips });
    return strips;
  }

  /** Streams the run's whole metrics.jsonl to its page in chunks (after a snapshot). */
  private async loadHistory(runId: string): Promise<void> {
    const detail = await this.reader.readRun(runId).catch(() => undefined);
    if (!detail || !this.panels.has(runId)) return;
    const follower = new RunFollower(join(detail.dir, METRICS_FILE), (m) => this.post(runId, m), undefined, (line, at) =>
      this.log.warn(`dashboard ${runId}: skipped a metrics.jsonl line at byte ${at} that is not JSON: ${line.slice(0, 80)}`),
    );
    this.followers.set(runId, follower);
    await follower.loadAll().catch((e: Error) => this.log.warn(`dashboard ${runId}: cannot stream metrics.jsonl: ${e.message}`));
  }

  /** New lines in a run's metrics.jsonl that no daemon notification covers (a CLI run): send them. */
  follow(runId: string): void {
    void this.followers.get(runId)?.follow().catch((e: Error) => this.log.warn(`dashboard ${runId}: cannot follow metrics.jsonl: ${e.message}`));
  }

  post(runId: string, message: HostToWebviewMessage): void {
    void this.panels.get(runId)?.webview.postMessage(message);
  }

  dispose(): void {
    for (const p of this.panels.values()) p.dispose();
  }
}
