// The dashboard page shell. Strict CSP: no inline script, only our nonce'd module scripts from
// the webview's own resource root; styles from that root or inline (VS Code's theme variables);
// images as data: (Chart.js draws to canvas). No network access at all, so it also works over
// Remote-SSH where only postMessage crosses.
import { randomBytes } from "node:crypto";
import type { WebviewAction } from "../protocol/webview";

/** The command each dashboard button runs (with the run id as argument). */
export const ACTION_COMMANDS: Record<WebviewAction, string> = {
  pause: "hyperat.pauseRun",
  resume: "hyperat.resumeRun",
  stop: "hyperat.stopRun",
  cancel: "hyperat.cancelOperation",
  merge: "hyperat.mergeRun",
  evaluate: "hyperat.evaluateRun",
  openReport: "hyperat.openReport",
  revealFolder: "hyperat.revealRunFolder",
};

export interface DashboardPage {
  /** webview.cspSource */
  cspSource: string;
  /** asWebviewUri of dist/webview/main.js */
  scriptUri: string;
  /** asWebviewUri of dist/webview/vscode-elements.js */
  elementsUri: string;
  /** asWebviewUri of dist/webview/codicon.css, if bundled */
  codiconsUri?: string;
  runId: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString("base64").replace(/[^A-Za-z0-9]/g, "");
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function dashboardCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join("; ");
}

export function dashboardHtml(page: DashboardPage): string {
  const nonce = page.nonce ?? makeNonce();
  const runId = escapeHtml(page.runId);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${dashboardCsp(page.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${page.codiconsUri ? `<link rel="stylesheet" id="vscode-codicon-stylesheet" href="${escapeHtml(page.codiconsUri)}">` : ""}
<title>HyperAT ${runId}</title>
</head>
<body data-run-id="${runId}">
<div id="app"><p class="placeholder">Loading run ${runId}…</p></div>
<script type="module" nonce="${nonce}" src="${escapeHtml(page.elementsUri)}"></script>
<script type="module" nonce="${nonce}" src="${escapeHtml(page.scriptUri)}"></script>
</body>
</html>`;
}
