// Activation: wires the daemon client, the Runs tree, the status bar, dashboards, config
// decorations/diagnostics/CodeLens and the commands. A failure here is caught and shown (VS Code
// would otherwise only log it), and the commands that did register still explain themselves.
import * as vscode from "vscode";
import { ACTIVE_RUN_STATES } from "../protocol/runs";
import { ConfigCodeLens } from "./codeLens";
import { registerCommands } from "./commands";
import { ConfigDecorations } from "./configDecorations";
import { ConfigDiagnostics } from "./configDiagnostics";
import { DaemonConfigErrors } from "./daemonConfigErrors";
import { Ctx } from "./ctx";
import { DaemonClient } from "./daemonClient";
import { DASHBOARD_VIEW_TYPE, DashboardPanels } from "./dashboardPanel";
import { ComparePanel } from "./comparePanel";
import { compareRuns } from "./compareCommand";
import { RunExplorer } from "./runExplorer";
import { LiveRuns, liveRunReader } from "./liveRuns";
import { diskRunReader } from "./runReader";
import { settingsFrom } from "./settings";
import { StatusBar } from "./statusBar";
import { throttle } from "./throttle";
import { ProgressTracker } from "./progressTracker";
import type { RunRowLive } from "./runTree";
import { wireRunNotices } from "./runNoticesUi";
import { vscodeProgressUi } from "./progressUi";
import * as p from "../protocol";
import { join } from "node:path";
import { readRunSummary, runsDirOf } from "../daemon/runStore";
import { RUN_FILES_GLOB, RunFolderEvents } from "./runFolderEvents";
import { RunWatch } from "./runWatch";
import { DiskRunWatch, warningsReader } from "./diskRunWatch";

let ctx: Ctx | undefined;

/** What extension-host tests (test/e2e/extensionHost) reach through `extension.exports`. */
export interface HyperatApi {
  ctx: Ctx;
}

export async function activate(context: vscode.ExtensionContext): Promise<HyperatApi | undefined> {
  const log = vscode.window.createOutputChannel("HyperAT", { log: true });
  context.subscriptions.push(log);
  try {
    ctx = wire(context, log);
    return { ctx };
  } catch (e) {
    const err = e as Error;
    log.error(`activation failed: ${err.stack ?? err.message}`);
    void vscode.window.showErrorMessage(`HyperAT failed to activate: ${err.message}`, "Show Logs").then((pick) => pick && log.show());
    return undefined;
  }
}

function wire(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Ctx {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const settings = () => settingsFrom((k) => vscode.workspace.getConfiguration("hyperat").get(k));
  const runsDir = () => (ctx ? ctx.runsDir : undefined);
  const live = new LiveRuns();
  // Runs the connected daemon reports on; the others are followed through their folders.
  const daemonRuns = new Set<string>();
  const watch = new RunWatch();
  const diskWatch = new DiskRunWatch(watch, (runId, e) => log.warn(`run ${runId}: cannot read metrics.jsonl for its warnings: ${e.message}`));
  const reader = warningsReader(liveRunReader(diskRunReader(runsDir, (dir, e) => log.warn(`unreadable run folder ${dir}: ${e.message}`)), live), diskWatch, (runId) => daemonRuns.has(runId));
  const explorer = new RunExplorer(reader);
  explorer.groupBy = () => settings().runsGroupBy;
  const statusBar = new StatusBar();
  const dashboards = new DashboardPanels(context.extensionUri, reader, log);
  const daemon = folder ? new DaemonClient(context.extensionPath, folder, settings, log) : undefined;
  const c = new Ctx(context, log, folder, daemon, explorer, statusBar, dashboards, watch);
  const compare = new ComparePanel(context.extensionUri, reader, log, () => folder);
  const decorations = new ConfigDecorations(reader, () => c.settings.decorationsEnabled);
  const lenses = new ConfigCodeLens(reader);
  c.configErrors = new DaemonConfigErrors();
  // Decorations re-read the latest run's metrics; during training the tree changes several
  // times a second, so follow it at most every couple of seconds.
  const followTree = throttle(2000, () => {
    decorations.refresh();
    lenses.refresh();
  });
  // A label, tag or note changed (a command here, or the file from elsewhere): every view that
  // names the run re-reads it.
  const annotated = (runId: string): void => {
    explorer.scheduleRefresh();
    void dashboards.sendSnapshot(runId);
    compare.refreshRun(runId);
  };
  context.subscriptions.push(
    explorer,
    statusBar,
    dashboards,
    decorations,
    new ConfigDiagnostics(daemon, log, (uri) => c.configErrors?.clear(uri)),
    c.configErrors,
    // Multi-select, so several runs can be compared at once (compareCommand.ts).
    vscode.window.createTreeView("hyperat.runs", { treeDataProvider: explorer, canSelectMany: true }),
    compare,
    vscode.commands.registerCommand("hyperat.compareRuns", compareRuns(c, compare)),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, dashboards),
    vscode.languages.registerCodeLensProvider({ pattern: "**/*.hyperat.json" }, lenses),
    ...registerCommands(c),
    explorer.onDidChangeTreeData(followTree),
    { dispose: () => followTree.cancel() },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("hyperat.decorations") || e.affectsConfiguration("hyperat.runs.groupBy")) explorer.refresh();
    }),
    c.onDidAnnotateRun,
    c.onDidAnnotateRun.event(annotated),
  );
  if (folder) context.subscriptions.push(...watchRunFolders(runsDirOf(folder), c, daemonRuns, diskWatch, annotated));
  if (daemon) {
    context.subscriptions.push(
      daemon.onRunning.event((running) => running || daemonRuns.clear()),
      daemon.onRunStatus.event((s) => daemonRuns.add(s.runId)),
      daemon.onRunMetrics.event((m) => daemonRuns.add(m.runId)),
    );
    const progress = new ProgressTracker(
      vscodeProgressUi,
      (runId) => void daemon.request(p.runCancel, { runId }).catch((e: Error) => log.warn(`cancel ${runId}: ${e.message}`)),
      (runId) => {
        explorer.scheduleRefresh();
        statusBar.refresh();
        dashboards.post(runId, { type: "progress", progress: progress.current(runId) ?? null });
      },
    );
    c.progress = progress;
    const liveOf = (runId: string): RunRowLive => ({ operation: progress.current(runId), daemonStarting: daemon.isStarting, warnings: c.watch.warnings(runId) });
    explorer.liveOf = liveOf;
    statusBar.liveOf = liveOf;
    context.subscriptions.push(
      daemon.onProgress.event((e) => progress.handle(e)),
      daemon.onRunning.event((running) => running || progress.clear()),
    );
    context.subscriptions.push(daemon, ...wireDaemon(c, daemon, live), ...wireRunNotices(c, daemon, live));
  }
  return c;
}

/** Live updates for runs the daemon does not report on (CLI runs, a shared folder written by
 * another machine): a watcher on their run.json and metrics.jsonl; and on every run's
 * annotations.json, which no daemon reports (runFolderEvents.ts). */
function watchRunFolders(runsDir: string, c: Ctx, daemonRuns: ReadonlySet<string>, diskWatch: DiskRunWatch, annotationsChanged: (runId: string) => void): vscode.Disposable[] {
  const { explorer, dashboards, statusBar } = c;
  const states = new Map<string, string>();
  const events = new RunFolderEvents(runsDir, {
    daemonOwns: (runId) => daemonRuns.has(runId),
    annotationsChanged,
    metricsAppended: (runId) => {
      dashboards.follow(runId);
      // run.json (and so the tree) changes only at checkpoints: re-draw when a flag came or went.
      const before = c.watch.warnings(runId).join("\n");
      void diskWatch.sync({ id: runId, dir: join(runsDir, runId) }).then(() => {
        if (c.watch.warnings(runId).join("\n") === before) return;
        explorer.scheduleRefresh();
        statusBar.refresh();
      });
    },
    runChanged: (runId) => {
      explorer.scheduleRefresh();
      void readRunSummary(join(runsDir, runId)).then((s) => {
        dashboards.post(runId, { type: "status", state: s.state, step: s.step, totalSteps: s.totalSteps, message: s.message });
        // A new state brings new artifacts (adapters, a report): re-read the folder then only.
        if (states.get(runId) !== s.state) void dashboards.sendSnapshot(runId);
        states.set(runId, s.state);
      }, () => {});
    },
  });
  const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runsDir), RUN_FILES_GLOB));
  return [
    watcher,
    events,
    watcher.onDidCreate((u) => events.onFile(u.fsPath)),
    watcher.onDidChange((u) => events.onFile(u.fsPath)),
    watcher.onDidDelete((u) => {
      explorer.scheduleRefresh();
      events.onDeleted(u.fsPath);
    }),
  ];
}

/** Live updates: notifications refresh the tree and feed open dashboards and the status bar. */
function wireDaemon(c: Ctx, daemon: DaemonClient, live: LiveRuns): vscode.Disposable[] {
  const { explorer, dashboards, statusBar } = c;
  // Re-reads every run.json: once per step would be wasted work on a workspace with many runs.
  const updateActive = throttle(300, () => {
    void explorer.reader.listRuns().catch(() => []).then((runs) =>
      statusBar.setActiveRun(runs.find((r) => ACTIVE_RUN_STATES.includes(r.state))),
    );
  });
  return [
    { dispose: () => updateActive.cancel() },
    daemon.onStarting.event(() => {
      statusBar.setDaemon({ starting: true });
      explorer.scheduleRefresh();
    }),
    daemon.onRunning.event((running) => {
      if (!running) {
        live.clear();
        // The daemon's runs are not active any more (interrupted, or paused by a shutdown): a
        // status bar still spinning "18/60" would contradict the tree (issue 16 item 6).
        statusBar.setActiveRun(undefined);
      }
      statusBar.setDaemon({ running, starting: false, backend: daemon.info?.backend, compute: daemon.info?.compute });
      explorer.scheduleRefresh();
      updateActive();
    }),
    daemon.onDaemonStatus.event((s) => statusBar.setDaemon({ backend: s.backend, health: s.health, message: s.message })),
    daemon.onRunStatus.event((s) => {
      live.status(s);
      explorer.scheduleRefresh();
      updateActive();
      dashboards.post(s.runId, { type: "status", state: s.state, step: s.step, totalSteps: s.totalSteps, message: s.message });
      void dashboards.sendSnapshot(s.runId);
    }),
    daemon.onRunMetrics.event(({ runId, ...metric }) => {
      live.step(runId, metric.step);
      c.watch.metric(runId, metric.step, metric.loss);
      explorer.scheduleRefresh();
      updateActive();
      dashboards.post(runId, { type: "metrics", metric });
    }),
    daemon.onRunLoraNorms.event(({ runId, ...snapshot }) => dashboards.post(runId, { type: "loraNorms", snapshot })),
    daemon.onRunEvaluation.event(({ runId, ...record }) => {
      explorer.scheduleRefresh();
      dashboards.post(runId, { type: "evaluation", record });
    }),
  ];
}

export async function deactivate(): Promise<void> {
  await ctx?.daemon?.stop();
  ctx = undefined;
}
