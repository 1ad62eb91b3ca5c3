// Errors the daemon returns for a config (InvalidConfig, MissingFile at run start) shown as
// diagnostics at their JSON path (configErrorRange.ts), full text in the Problems view, instead of
// a cut-off toast. Its own collection: the editor's checks (configDiagnostics.ts) re-publish on
// every keystroke and must not wipe what the daemon said; an edit of the file clears it.
import { readFileSync } from "node:fs";
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import * as p from "../protocol";
import { errorRange } from "./configErrorRange";

export class DaemonConfigErrors implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("hyperat-daemon");
  private readonly sub = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.contentChanges.length) this.collection.delete(e.document.uri);
  });

  /** Shows `e` on `uri` when it is a config error; false for any other error (the caller toasts it). */
  show(uri: vscode.Uri, e: unknown): boolean {
    if (!(e instanceof ResponseError) || (e.code !== p.ErrorCodes.InvalidConfig && e.code !== p.ErrorCodes.MissingFile)) return false;
    const data = (e.data ?? {}) as p.HyperatErrorData;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    let text: string;
    try {
      text = doc?.getText() ?? readFileSync(uri.fsPath, "utf8");
    } catch {
      return false;
    }
    const r = errorRange(text, data.jsonPath);
    const at = (o: number) => (doc ? doc.positionAt(o) : positionIn(text, o));
    const d = new vscode.Diagnostic(new vscode.Range(at(r.offset), at(r.offset + r.length)), e.message, vscode.DiagnosticSeverity.Error);
    d.source = "hyperat (daemon)";
    d.code = data.jsonPath || "/";
    this.collection.set(uri, [d]);
    return true;
  }

  clear(uri: vscode.Uri): void {
    this.collection.delete(uri);
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}

function positionIn(text: string, offset: number): vscode.Position {
  const before = text.slice(0, offset).split("\n");
  return new vscode.Position(before.length - 1, before[before.length - 1].length);
}
