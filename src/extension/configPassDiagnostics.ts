// The daemon's up-front pass (`hyperat/config.check`, src/daemon/configCheck.ts) as editor
// diagnostics: asked for a document on open and on save (debounced: a "save all" or a format-on-
// save burst is one request), answered with every problem at its JSON path, and merged with the
// instant in-editor checks (configProblems.ts) so a path gets one diagnostic, the pass's (issue
// 15, issue 16 item 4). Pure over narrow fakes; configDiagnostics.ts is the VS Code glue.
import type { ConfigCheckParams, ConfigCheckProblem, ConfigCheckResult } from "../protocol/methods";
import type { ConfigProblem } from "./configProblems";
import { errorRange } from "./configErrorRange";

/** What the pass needs of a TextDocument. */
export interface PassDocument {
  /** The document's URI as a string: one entry per document. */
  readonly key: string;
  readonly fsPath: string;
  /** Rises with every edit (TextDocument.version): an answer for an older one is stale. */
  readonly version: number;
  getText(): string;
}

export interface ConfigPassDeps {
  /** `hyperat/config.check` on the running daemon; never starts one. */
  check(params: ConfigCheckParams): Promise<ConfigCheckResult>;
  daemonRunning(): boolean;
  /** The pass reads the files a config names: only in a trusted workspace (package.json capabilities). */
  trusted(): boolean;
  /** The open document with this key as it is now; undefined once it is closed. */
  current(key: string): PassDocument | undefined;
  /** A current answer arrived: publish it. */
  onResult(doc: PassDocument, problems: readonly ConfigCheckProblem[]): void;
  onError(doc: PassDocument, e: Error): void;
  /** A timer (setTimeout in the glue, a manual clock in tests). */
  schedule(fn: () => void, ms: number): { cancel(): void };
}

/** Long enough to fold a save-all or a format-on-save into one request, short enough to feel immediate. */
export const PASS_DEBOUNCE_MS = 300;

export class ConfigPass {
  private readonly timers = new Map<string, { cancel(): void }>();
  /** The latest request per document: only its answer may be published. */
  private readonly latest = new Map<string, number>();
  private readonly results = new Map<string, readonly ConfigCheckProblem[]>();
  private next = 0;

  constructor(private readonly deps: ConfigPassDeps) {}

  /** Asks for the pass on `key` after the debounce; a later request for it replaces this one. */
  request(key: string): void {
    this.timers.get(key)?.cancel();
    this.timers.set(key, this.deps.schedule(() => {
      this.timers.delete(key);
      void this.run(key);
    }, PASS_DEBOUNCE_MS));
  }

  /** Runs the pass now; resolves once its answer is published or dropped. */
  async run(key: string): Promise<void> {
    if (!this.deps.trusted() || !this.deps.daemonRunning()) return;
    const doc = this.deps.current(key);
    if (!doc) return;
    const token = ++this.next;
    this.latest.set(key, token);
    const version = doc.version;
    let result: ConfigCheckResult;
    try {
      result = await this.deps.check({ configPath: doc.fsPath, text: doc.getText() });
    } catch (e) {
      if (this.latest.get(key) === token) this.deps.onError(doc, e as Error);
      return;
    }
    const now = this.deps.current(key);
    // Stale: a newer request was sent, the document was edited since, or it was closed.
    if (this.latest.get(key) !== token || !now || now.version !== version) return;
    this.results.set(key, result.problems);
    this.deps.onResult(now, result.problems);
  }

  /** The last current answer for `key` (undefined before the first one). */
  problemsOf(key: string): readonly ConfigCheckProblem[] | undefined {
    return this.results.get(key);
  }

  /** The document closed: no answer for it is published any more. */
  forget(key: string): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
    this.latest.delete(key);
    this.results.delete(key);
  }

  dispose(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.latest.clear();
  }
}

/** One diagnostic to publish, located in the document's current text. */
export interface MergedProblem {
  offset: number;
  length: number;
  path: string;
  message: string;
  severity: "error" | "warning";
  /** "hyperat" for the in-editor checks, "hyperat (daemon)" for the pass. */
  source: string;
}

/**
 * The in-editor problems and the pass's, one per JSON path: where both speak about a path the
 * pass wins (it read the files and the model header; the editor's check only guessed from the
 * text). The pass's answer may be for the text as last saved; its JSON paths are located in
 * `text` as it is now, so an edit elsewhere does not shift the squiggles.
 */
export function mergeProblems(local: readonly ConfigProblem[], pass: readonly ConfigCheckProblem[] | undefined, text: string): MergedProblem[] {
  const passPaths = new Set((pass ?? []).map((p) => p.jsonPath));
  const out: MergedProblem[] = local
    .filter((p) => !passPaths.has(p.path))
    .map((p) => ({ offset: p.offset, length: p.length, path: p.path, message: p.message, severity: p.severity, source: "hyperat" }));
  for (const p of pass ?? []) {
    const r = errorRange(text, p.jsonPath);
    out.push({ offset: r.offset, length: r.length, path: p.jsonPath || "/", message: p.message, severity: p.severity, source: "hyperat (daemon)" });
  }
  return out;
}
