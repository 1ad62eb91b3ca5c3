// Publishes the problems of open *.hyperat.json documents as diagnostics: the instant in-editor
// checks (configProblems.ts) on every keystroke, merged with the daemon's whole up-front pass
// (configPassDiagnostics.ts, `hyperat/config.check`) asked on open and on save, one diagnostic
// per JSON path (the pass's wins).
//
// The pass runs only while the daemon is already up, and never starts it: the extension starts
// the daemon on the first run command, not on activation (daemonClient.ts ensureStarted), and a
// daemon loads a compute backend (a wasm heap, or a GPU context on a GPU host) that a user who
// only opened a config did not ask for. The in-editor checks cover the text meanwhile; when the
// daemon comes up (any start, resume, merge, ...) every open config is checked at once.
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import * as vscode from "vscode";
import * as p from "../protocol";
import { configProblems } from "./configProblems";
import { isHyperatConfig } from "./configDecorations";
import { ConfigPass, mergeProblems } from "./configPassDiagnostics";
import type { DaemonClient } from "./daemonClient";

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("hyperat");
  private readonly subscriptions: vscode.Disposable[];
  private readonly pass?: ConfigPass;

  /** `clearStartError`: a current pass answer replaces what run.start said (daemonConfigErrors.ts). */
  constructor(daemon?: Pick<DaemonClient, "running" | "requestIfRunning" | "onRunning">, log?: vscode.LogOutputChannel, clearStartError?: (uri: vscode.Uri) => void) {
    const docOf = (key: string) => vscode.workspace.textDocuments.find((d) => d.uri.toString() === key && isHyperatConfig(d));
    if (daemon) {
      this.pass = new ConfigPass({
        check: (params) => daemon.requestIfRunning(p.configCheck, params),
        daemonRunning: () => daemon.running,
        trusted: () => vscode.workspace.isTrusted,
        current: (key) => {
          const d = docOf(key);
          return d && { key, fsPath: d.uri.fsPath, version: d.version, getText: () => d.getText() };
        },
        onResult: (doc) => {
          const d = docOf(doc.key);
          if (!d) return;
          clearStartError?.(d.uri);
          this.update(d);
        },
        onError: (doc, e) => log?.warn(`config check of ${doc.fsPath}: ${e.message}`),
        schedule: (fn, ms) => {
          const t = setTimeout(fn, ms);
          return { cancel: () => clearTimeout(t) };
        },
      });
    }
    const ask = (d: vscode.TextDocument) => isHyperatConfig(d) && this.pass?.request(d.uri.toString());
    const askAll = () => vscode.workspace.textDocuments.forEach(ask);
    this.subscriptions = [
      vscode.workspace.onDidOpenTextDocument((d) => {
        this.update(d);
        ask(d);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => this.update(e.document)),
      vscode.workspace.onDidSaveTextDocument(ask),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.pass?.forget(d.uri.toString());
        this.collection.delete(d.uri);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(askAll),
      ...(daemon ? [daemon.onRunning.event((running) => running && askAll())] : []),
    ];
    for (const d of vscode.workspace.textDocuments) this.update(d);
    askAll();
  }

  update(doc: vscode.TextDocument): void {
    if (!isHyperatConfig(doc)) return;
    const text = doc.getText();
    const local = configProblems(text, dirname(doc.uri.fsPath), existsSync);
    this.collection.set(
      doc.uri,
      mergeProblems(local, this.pass?.problemsOf(doc.uri.toString()), text).map((m) => {
        const range = new vscode.Range(doc.positionAt(m.offset), doc.positionAt(m.offset + m.length));
        const d = new vscode.Diagnostic(range, m.message, m.severity === "error" ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        d.source = m.source;
        d.code = m.path;
        return d;
      }),
    );
  }

  dispose(): void {
    this.pass?.dispose();
    this.collection.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
