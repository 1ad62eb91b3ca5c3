// Maps the daemon's `hyperat/progress` (LSP work-done shape: begin/report/end per token) onto
// progress UI. Pure (no vscode import) so node:test drives it with a fake ProgressUi; the
// vscode.window.withProgress adapter is progressUi.ts.
// - An operation the user started and waits on (merge/evaluate from a command) shows as a
//   cancellable notification; everything else (session preparation, operations started
//   elsewhere) shows quietly (window status) and in context: the tree row and the dashboard
//   header read `current(runId)`.
// - Nesting follows the run: a begin while another operation of the same run is open (e.g. an
//   evaluation's attack phases, a preparation inside a resume) is titled "outer › inner".
// - VS Code wants increments, the daemon sends percentages: the difference is reported.
import type { ProgressOperation, ProgressParams } from "../protocol/methods";

export interface ProgressSink {
  report(message: string | undefined, increment: number | undefined): void;
  /** Ends the progress UI. */
  done(): void;
}

export interface ProgressUi {
  open(opts: { title: string; notification: boolean; onCancel?: () => void }): ProgressSink;
}

/** What a run's row and dashboard header show while an operation of it is open. */
export interface RunProgress {
  title: string;
  message?: string;
  percentage?: number;
  operation?: ProgressOperation;
  cancellable: boolean;
}

interface Open {
  runId?: string;
  operation?: ProgressOperation;
  title: string;
  cancellable: boolean;
  message?: string;
  percentage?: number;
  sink: ProgressSink;
}

export class ProgressTracker {
  private readonly open = new Map<string, Open>();
  /** Operations a command waits on, keyed "<runId>/<operation>", with how many waiters. */
  private readonly awaited = new Map<string, number>();

  constructor(
    private readonly ui: ProgressUi,
    /** Sends the cancel to the daemon (hyperat/run.cancel). */
    private readonly cancel: (runId: string) => void,
    /** A run's progress changed (tree row, dashboard header). */
    private readonly changed: (runId: string) => void = () => {},
  ) {}

  /** Marks `operation` of `runId` as started by the user, who waits on it: it shows as a
   * notification with a Cancel button. Call the returned function when the request settles. */
  expect(runId: string, operation: ProgressOperation): () => void {
    const key = `${runId}/${operation}`;
    this.awaited.set(key, (this.awaited.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.awaited.get(key) ?? 1) - 1;
      if (n > 0) this.awaited.set(key, n);
      else this.awaited.delete(key);
    };
  }

  handle(p: ProgressParams): void {
    const v = p.value;
    if (v.kind === "begin") {
      this.end(p.token); // a repeated begin restarts the operation
      const outer = p.runId ? this.outermost(p.runId) : undefined;
      const title = outer ? `${outer.title} › ${v.title}` : v.title;
      const notification = !!p.runId && !!p.operation && this.awaited.has(`${p.runId}/${p.operation}`);
      const runId = p.runId;
      const onCancel = v.cancellable && runId ? () => this.cancel(runId) : undefined;
      const sink = this.ui.open({ title, notification, onCancel });
      const entry: Open = { runId, operation: p.operation, title, cancellable: v.cancellable, sink };
      this.open.set(p.token, entry);
      this.update(entry, v.message, v.percentage);
      return;
    }
    const entry = this.open.get(p.token);
    if (!entry) return; // a report or end for an operation that began before we listened
    if (v.kind === "report") this.update(entry, v.message, v.percentage);
    else this.end(p.token);
  }

  /** The innermost open operation of a run (what its row and header show). */
  current(runId: string): RunProgress | undefined {
    let last: Open | undefined;
    for (const e of this.open.values()) if (e.runId === runId) last = e;
    return last && { title: last.title, message: last.message, percentage: last.percentage, operation: last.operation, cancellable: last.cancellable };
  }

  /** The daemon went away: its operations ended with it. */
  clear(): void {
    for (const token of [...this.open.keys()]) this.end(token);
  }

  private outermost(runId: string): Open | undefined {
    for (const e of this.open.values()) if (e.runId === runId) return e;
    return undefined;
  }

  private update(entry: Open, message: string | undefined, percentage: number | undefined): void {
    let increment: number | undefined;
    if (percentage !== undefined && Number.isFinite(percentage)) {
      const pct = Math.min(100, Math.max(0, percentage));
      increment = Math.max(0, pct - (entry.percentage ?? 0));
      entry.percentage = Math.max(pct, entry.percentage ?? 0);
    }
    if (message !== undefined) entry.message = message;
    entry.sink.report(message, increment);
    if (entry.runId) this.changed(entry.runId);
  }

  private end(token: string): void {
    const entry = this.open.get(token);
    if (!entry) return;
    this.open.delete(token);
    entry.sink.done();
    if (entry.runId) this.changed(entry.runId);
  }
}

/** "merge 40% · λ step 4/10" for a tree row. */
export function progressText(p: RunProgress): string {
  const pct = p.percentage !== undefined ? ` ${Math.round(p.percentage)}%` : "";
  return `${p.title}${pct}${p.message ? ` · ${p.message}` : ""}`;
}
