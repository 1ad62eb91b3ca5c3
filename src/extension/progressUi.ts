// ProgressUi over vscode.window.withProgress: a notification with a Cancel button for
// operations the user waits on, the window (status bar) spinner for the rest.
import * as vscode from "vscode";
import type { ProgressSink, ProgressUi } from "./progressTracker";

export const vscodeProgressUi: ProgressUi = {
  open({ title, notification, onCancel }) {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let reporter: vscode.Progress<{ message?: string; increment?: number }> | undefined;
    const queued: Array<{ message?: string; increment?: number }> = [];
    void vscode.window.withProgress(
      {
        location: notification ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window,
        title: notification ? `HyperAT: ${title}` : `HyperAT ${title}`,
        cancellable: notification && !!onCancel,
      },
      (progress, token) => {
        reporter = progress;
        for (const q of queued.splice(0)) progress.report(q);
        token.onCancellationRequested(() => onCancel?.());
        return finished;
      },
    );
    const sink: ProgressSink = {
      report(message, increment) {
        const value = { message, increment };
        if (reporter) reporter.report(value);
        else queued.push(value);
      },
      done: () => finish(),
    };
    return sink;
  },
};
