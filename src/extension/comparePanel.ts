// The compare-runs panel: one WebviewPanel showing the chosen runs side by side (overlaid
// curves, robustness table, config diff; data shaped in compareData.ts). Opening it again with
// other runs replaces its content. Exports from the page go through a save dialog and are
// written atomically; every message from the page is validated first (src/protocol/compare.ts).
import * as vscode from "vscode";
import { isCompareToHostMessage } from "../protocol/compare";
import { writeFileAtomic } from "../core/io/files";
import { compareMessage } from "./compareData";
import { dashboardCsp, makeNonce } from "./dashboardHtml";
import type { RunReader } from "./runExplorer";

export const COMPARE_VIEW_TYPE = "hyperat.compare";

export class ComparePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private runIds: string[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly reader: RunReader,
    private readonly log: vscode.LogOutputChannel,
    private readonly exportFolder: () => string | undefined,
  ) {}

  show(runIds: string[]): void {
    this.runIds = runIds;
    if (this.panel) {
      this.panel.reveal();
      void this.send();
      return;
    }
    const root = vscode.Uri.joinPath(this.extensionUri, "dist", "webview");
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, "HyperAT: Compare Runs", vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [root],
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, "media", "activity.svg");
    const w = panel.webview;
    const nonce = makeNonce();
    const src = (f: string) => w.asWebviewUri(vscode.Uri.joinPath(root, f)).toString();
    w.html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${dashboardCsp(w.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${src("codicon.css")}">
<title>HyperAT: Compare Runs</title>
</head>
<body>
<div id="app"><p>Loading runs…</p></div>
<script type="module" nonce="${nonce}" src="${src("vscode-elements.js")}"></script>
<script type="module" nonce="${nonce}" src="${src("compare.js")}"></script>
</body>
</html>`;
    w.onDidReceiveMessage((m: unknown) => void this.onMessage(m));
    panel.onDidDispose(() => (this.panel = undefined));
    this.panel = panel;
  }

  /** One of the compared runs changed how it is named (annotations.json): show it again. */
  refreshRun(runId: string): void {
    if (this.panel && this.runIds.includes(runId)) void this.send();
  }

  private async send(): Promise<void> {
    const { message, missing } = await compareMessage(this.reader, this.runIds);
    if (missing.length) void vscode.window.showWarningMessage(`HyperAT: cannot read run${missing.length > 1 ? "s" : ""} ${missing.join(", ")}; comparing the others.`);
    void this.panel?.webview.postMessage(message);
  }

  private async onMessage(m: unknown): Promise<void> {
    if (!isCompareToHostMessage(m)) {
      this.log.warn("compare: ignored an invalid message from the page");
      return;
    }
    if (m.type === "ready") return this.send();
    const ext = m.format;
    const folder = this.exportFolder();
    const uri = await vscode.window.showSaveDialog({
      title: `Export ${m.name} as ${ext.toUpperCase()}`,
      defaultUri: folder ? vscode.Uri.joinPath(vscode.Uri.file(folder), `${m.name}.${ext}`) : undefined,
      filters: ext === "png" ? { "PNG image": ["png"] } : { CSV: ["csv"] },
    });
    if (!uri) return;
    const bytes = ext === "png" ? Buffer.from(m.data.slice(m.data.indexOf(",") + 1), "base64") : Buffer.from(m.data, "utf8");
    try {
      if (uri.scheme === "file") await writeFileAtomic(uri.fsPath, bytes);
      else await vscode.workspace.fs.writeFile(uri, bytes);
      void vscode.window.showInformationMessage(`HyperAT: exported ${m.name} to ${vscode.workspace.asRelativePath(uri)}.`);
    } catch (e) {
      void vscode.window.showErrorMessage(`HyperAT: cannot write ${uri.fsPath}: ${(e as Error).message}`);
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }
}
