// "Start run · Open dashboard" at the top of every *.hyperat.json.
import * as vscode from "vscode";
import type { RunReader } from "./runExplorer";

export class ConfigCodeLens implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly reader: RunReader) {}

  refresh(): void {
    this.changed.fire();
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const top = new vscode.Range(0, 0, 0, 0);
    const lenses = [new vscode.CodeLens(top, { title: "$(play) Start run", command: "hyperat.startRun", arguments: [doc.uri] })];
    const runs = await this.reader.listRuns().catch(() => []);
    const latest = runs.filter((r) => r.configPath === doc.uri.fsPath).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (latest) {
      lenses.push(new vscode.CodeLens(top, { title: `$(graph) Open dashboard (${latest.id}, ${latest.state})`, command: "hyperat.openDashboard", arguments: [latest.id] }));
    }
    return lenses;
  }
}
