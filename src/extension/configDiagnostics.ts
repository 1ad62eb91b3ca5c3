// Publishes configProblems() for open *.hyperat.json documents as diagnostics (source "hyperat").
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import * as vscode from "vscode";
import { configProblems } from "./configProblems";
import { isHyperatConfig } from "./configDecorations";

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("hyperat");
  private readonly subscriptions: vscode.Disposable[];

  constructor() {
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((d) => this.update(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.update(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    ];
    for (const d of vscode.workspace.textDocuments) this.update(d);
  }

  update(doc: vscode.TextDocument): void {
    if (!isHyperatConfig(doc)) return;
    const problems = configProblems(doc.getText(), dirname(doc.uri.fsPath), existsSync);
    this.collection.set(
      doc.uri,
      problems.map((p) => {
        const range = new vscode.Range(doc.positionAt(p.offset), doc.positionAt(p.offset + p.length));
        const d = new vscode.Diagnostic(range, p.message, p.severity === "error" ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        d.source = "hyperat";
        d.code = p.path;
        return d;
      }),
    );
  }

  dispose(): void {
    this.collection.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
