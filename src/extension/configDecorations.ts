// Renders configFacts() as `after` decorations on the lines of visible *.hyperat.json editors.
// Facts about "the latest run" come from the newest run whose configPath is this file.
import * as vscode from "vscode";
import { stripBom, validateConfig } from "../core/config/validate";
import type { RunDetail } from "../protocol/runs";
import { configFacts, runForDecorations, type ConfigFactInputs } from "./configFacts";
import { runTitle } from "./runNotices";
import { defenseFacts } from "./runTree";
import type { RunReader } from "./runExplorer";
import { countTrainable } from "./trainableParams";

export const isHyperatConfig = (doc: vscode.TextDocument) => doc.uri.path.endsWith(".hyperat.json");

export class ConfigDecorations implements vscode.Disposable {
  private readonly type = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), fontStyle: "italic", margin: "0 0 0 2em" },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedOpen,
  });
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly reader: RunReader,
    private readonly enabled: () => boolean,
  ) {
    this.subscriptions.push(
      vscode.window.onDidChangeVisibleTextEditors(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (isHyperatConfig(e.document)) this.refresh();
      }),
    );
  }

  /** Re-renders every visible config editor (called on edits and when runs change). */
  refresh(): void {
    for (const editor of vscode.window.visibleTextEditors) if (isHyperatConfig(editor.document)) void this.render(editor);
  }

  private async latestRun(configPath: string): Promise<RunDetail | undefined> {
    const runs = await this.reader.listRuns().catch(() => []);
    const run = runForDecorations(runs, configPath);
    return run ? this.reader.readRun(run.id).catch(() => undefined) : undefined;
  }

  private async render(editor: vscode.TextEditor): Promise<void> {
    const doc = editor.document;
    if (!this.enabled()) {
      editor.setDecorations(this.type, []);
      return;
    }
    const text = doc.getText();
    const inputs: ConfigFactInputs = {};
    try {
      const counts = countTrainable(validateConfig(JSON.parse(stripBom(text)), doc.uri.fsPath));
      if (counts) Object.assign(inputs, counts);
    } catch {
      // invalid or half-typed config: the schema squiggles it; decorate what we can
    }
    const run = await this.latestRun(doc.uri.fsPath);
    // "latest run demo · 14:27, completed": the id is long and says less (issue 16 item 8).
    if (run) inputs.latestRun = { id: `${runTitle(run)}, ${run.state}`, defenses: defenseFacts(run) };
    if (doc.version !== editor.document.version) return;
    const options = configFacts(text, inputs).map((f) => {
      const line = doc.lineAt(doc.positionAt(f.offset).line);
      return { range: new vscode.Range(line.range.end, line.range.end), renderOptions: { after: { contentText: f.text } } };
    });
    // Two facts on one line (eps and stepSize in a one-line object) are joined into one.
    const byLine = new Map<number, vscode.DecorationOptions>();
    for (const o of options) {
      const prev = byLine.get(o.range.start.line);
      if (prev) prev.renderOptions!.after!.contentText += ` · ${o.renderOptions.after.contentText}`;
      else byLine.set(o.range.start.line, o);
    }
    editor.setDecorations(this.type, [...byLine.values()]);
  }

  dispose(): void {
    this.type.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
