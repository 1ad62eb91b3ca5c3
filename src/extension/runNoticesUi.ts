// Shows runNotices.ts's notices from the daemon's stream: completion (Merge / Evaluate / Open
// Dashboard), a pause this window asked for, a daemon crash (Resume), and a base model near
// chance. The texts are pure and tested in test/extension/runNotices.test.ts.
import * as vscode from "vscode";
import type { RunState, RunSummary } from "../protocol/runs";
import type { Ctx } from "./ctx";
import type { DaemonClient } from "./daemonClient";
import type { LiveRuns } from "./liveRuns";
import { completionNotice, crashNotice, pausedNotice, runTitle, type InterruptedRun, type Notice } from "./runNotices";
import { baseModelWarning } from "./runWatch";

function show(kind: "info" | "warning", n: Notice): Thenable<string | undefined> {
  return kind === "info" ? vscode.window.showInformationMessage(n.text, ...n.buttons) : vscode.window.showWarningMessage(n.text, ...n.buttons);
}

export function wireRunNotices(c: Ctx, daemon: DaemonClient, live: LiveRuns): vscode.Disposable[] {
  const last = new Map<string, RunState>();
  const summary = async (runId: string): Promise<RunSummary | undefined> =>
    (await c.explorer.reader.listRuns().catch(() => [] as RunSummary[])).find((r) => r.id === runId);

  const onCompleted = async (runId: string) => {
    const run = await summary(runId);
    if (!run) return;
    const pick = await show("info", completionNotice(run, c.watch.warnings(runId)));
    if (pick === "Merge") await vscode.commands.executeCommand("hyperat.mergeRun", runId);
    else if (pick === "Evaluate") await vscode.commands.executeCommand("hyperat.evaluateRun", runId);
    else if (pick === "Open Dashboard") await vscode.commands.executeCommand("hyperat.openDashboard", runId);
  };

  const onPaused = async (runId: string, step: number) => {
    const run = await summary(runId);
    if (!run) return;
    if ((await show("info", pausedNotice(run, step))) === "Resume") await vscode.commands.executeCommand("hyperat.resumeRun", runId);
  };

  return [
    daemon.onRunStatus.event((s) => {
      const before = last.get(s.runId);
      last.set(s.runId, s.state);
      // Training that finished here, not a merge or evaluation returning to "completed".
      if (s.state === "completed" && (before === "running" || before === "pausing")) void onCompleted(s.runId);
      if (s.state === "paused" && c.pausesAwaited.delete(s.runId)) void onPaused(s.runId, s.step);
      if (s.state === "running" && before !== "running") c.pausesAwaited.delete(s.runId);
    }),
    daemon.onRunBaseModel.event(({ runId, ...b }) => {
      c.watch.baseModel(runId, b);
      c.explorer.scheduleRefresh();
      c.statusBar.refresh();
      void c.dashboards.sendSnapshot(runId);
      if (!b.nearChance) return;
      void summary(runId).then(async (run) => {
        const pick = await vscode.window.showWarningMessage(`HyperAT ${run ? runTitle(run) : runId}: ${baseModelWarning(b)}.`, "Pause Run", "Open Dashboard");
        if (pick === "Pause Run") await vscode.commands.executeCommand("hyperat.pauseRun", runId);
        else if (pick === "Open Dashboard") await vscode.commands.executeCommand("hyperat.openDashboard", runId);
      });
    }),
    daemon.onCrashed.event(({ how, restarting }) => {
      // Fired before the live state is cleared: these are the runs the daemon was training.
      const steps = live.snapshot();
      last.clear();
      void c.explorer.reader.listRuns().catch(() => [] as RunSummary[]).then(async (runs) => {
        const interrupted: InterruptedRun[] = runs
          .filter((r) => steps.has(r.id))
          .map((r) => ({ id: r.id, name: r.name, createdAt: r.createdAt, lastStep: steps.get(r.id) ?? r.step, checkpointStep: r.step }));
        const pick = await show("warning", crashNotice(how, interrupted, restarting));
        if (pick === "Show Logs") c.log.show(true);
        else if (pick === "Resume" || pick === "Resume All") {
          for (const r of interrupted) await vscode.commands.executeCommand("hyperat.resumeRun", r.id);
        }
      });
    }),
  ];
}
