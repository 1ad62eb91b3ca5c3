// Command factories `(ctx) => async (...args) => {...}`, as in rust-analyzer's commands.ts.
// Every command is always registered and explains itself when it cannot act (no folder open,
// untrusted workspace, no run in a suitable state) instead of vanishing from the palette.
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import * as p from "../protocol";
import type { CheckpointRef, RunState, RunSummary } from "../protocol/runs";
import { checkpointArg, checkpointChoices } from "./checkpointChoices";
import { Ctx } from "./ctx";
import { RUN_COMMAND_STATES } from "./runCommandStates";
import { newConfig } from "./newConfig";
import { commandTitle, errorToast } from "./toastText";
import { pausedNotice, runTitle } from "./runNotices";
import { removeRun, type RemovalMode } from "./runRemoval";
import { pickRun } from "./runPick";
import { editRunNote, editRunTags, renameRun } from "./annotationCommands";
import { groupRunsByConfig, ungroupRuns } from "./runGroupingCommands";
import { chooseConfig, configFileName, isConfigPath } from "./configChoice";
import { needTrust, needWorkspace, waitOn } from "./commandGuards";
import { evaluateModel, exportModel } from "./modelCommands";

export type Cmd = (...args: unknown[]) => Promise<unknown>;

/** Human text for an error from the daemon, with its "where" (JSON path, file, run). */
export function describeError(e: unknown): string {
  if (e instanceof ResponseError) {
    const d = (e.data ?? {}) as p.HyperatErrorData;
    const where = [d.file, d.jsonPath, d.runId && `run ${d.runId}`, d.state && `state ${d.state}`].filter(Boolean).join(", ");
    return where && !e.message.includes(where) ? `${e.message} (${where})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

function guarded(name: string, f: Cmd): Cmd {
  return async (...args) => {
    try {
      return await f(...args);
    } catch (e) {
      const toast = errorToast(name, describeError(e));
      const buttons = toast.detail ? ["Details"] : [];
      void vscode.window.showErrorMessage(toast.text, ...buttons).then((pick) =>
        pick && toast.detail && vscode.window.showErrorMessage(`HyperAT ${commandTitle(name)} failed`, { modal: true, detail: toast.detail }),
      );
      return undefined;
    }
  };
}

export const selectConfig = (ctx: Ctx): Cmd => async (arg) => {
  const uri = arg instanceof vscode.Uri ? arg : await pickConfig(ctx, true);
  if (!uri) return undefined;
  await ctx.setSelectedConfig(uri);
  void vscode.window.setStatusBarMessage(`HyperAT: selected ${vscode.workspace.asRelativePath(uri)}`, 3000);
  return uri;
};

/** The config to act on (configChoice.ts): the argument, the active editor's config, the only
 * one, or a pick. `ignoreActive` for Select Config, which always asks among several. */
async function pickConfig(ctx: Ctx, ignoreActive = false, arg?: unknown): Promise<vscode.Uri | undefined> {
  const explicit = arg instanceof vscode.Uri ? arg : undefined;
  const active = vscode.window.activeTextEditor?.document.uri;
  const files = explicit || (!ignoreActive && isConfigPath(active?.fsPath))
    ? []
    : await vscode.workspace.findFiles("**/*.hyperat.json", "**/{node_modules,.hyperat}/**", 200);
  const byPath = new Map(files.map((f) => [f.fsPath, f]));
  const choice = await chooseConfig({
    explicit: explicit?.fsPath,
    activeEditor: ignoreActive ? undefined : active?.fsPath,
    configs: files.map((f) => f.fsPath),
    previous: ctx.selectedConfig?.fsPath,
    pick: async (candidates) => (await vscode.window.showQuickPick(
      candidates.map((c, i) => ({ label: vscode.workspace.asRelativePath(c), description: i === 0 && c === ctx.selectedConfig?.fsPath ? "last used" : undefined, path: c })),
      { title: "HyperAT: config to train" },
    ))?.path,
  });
  if (choice.kind === "none") {
    if (choice.why === "no config") void vscode.window.showInformationMessage("HyperAT: no *.hyperat.json in this workspace. Create one (the schema gives completion) and try again.");
    return undefined;
  }
  if (explicit) return explicit;
  if (choice.how === "active editor" && active) return active;
  return byPath.get(choice.path) ?? vscode.Uri.file(choice.path);
}

export const startRun = (ctx: Ctx): Cmd => async (arg) => {
  if (!needWorkspace(ctx) || !needTrust("Starting a run")) return undefined;
  const uri = await pickConfig(ctx, false, arg);
  if (!uri) return undefined;
  await ctx.setSelectedConfig(uri);
  let runId: string;
  try {
    ({ runId } = await ctx.daemon.request(p.runStart, { configPath: uri.fsPath }));
    ctx.configErrors?.clear(uri);
  } catch (e) {
    // A config the daemon rejects becomes a diagnostic at its JSON path (daemonConfigErrors.ts).
    if (ctx.configErrors?.show(uri, e)) {
      void vscode.window.showErrorMessage(`HyperAT: ${configFileName(uri.fsPath)} is not valid; see Problems.`, "Show Problems")
        .then((pick) => pick && vscode.commands.executeCommand("workbench.actions.view.problems"));
      return undefined;
    }
    throw e;
  }
  ctx.explorer.scheduleRefresh();
  void vscode.window.showInformationMessage(`HyperAT: started ${configFileName(uri.fsPath)} as ${runId}.`, "Open Dashboard")
    .then((pick) => pick && vscode.commands.executeCommand("hyperat.openDashboard", runId));
  return runId;
};

const control = (method: typeof p.runPause | typeof p.runResume | typeof p.runStop, states: readonly RunState[], verb: string) =>
  (ctx: Ctx): Cmd => async (arg) => {
    if (!needWorkspace(ctx)) return undefined;
    // Every control writes to the run folder (run.json, metrics.jsonl); resume also trains.
    if (verb === "resume" ? !needTrust("Resuming a run") : !needTrust(`${verb === "pause" ? "Pausing" : "Stopping"} a run`, "writes to the run folder")) return undefined;
    const run = await pickRun(ctx, arg, states, verb);
    if (!run) return undefined;
    if (verb === "pause") ctx.pausesAwaited.add(run.id);
    const summary = await ctx.daemon.request(method, { runId: run.id });
    ctx.explorer.scheduleRefresh();
    if (verb === "pause") {
      // Feedback at once: the pause lands at the next step boundary, with a checkpoint; the
      // `paused` status then raises a notice (runNoticesUi.ts).
      if (summary.state === "pausing") void vscode.window.setStatusBarMessage(`$(loading~spin) HyperAT: pausing ${runTitle(summary)} at the end of step ${summary.step + 1}…`, 10_000);
      else ctx.pausesAwaited.delete(run.id);
      if (summary.state === "paused") void vscode.window.showInformationMessage(pausedNotice(summary, summary.step).text);
    }
    return summary;
  };

export const pauseRun = control(p.runPause, RUN_COMMAND_STATES.pause, "pause");
export const resumeRun = control(p.runResume, RUN_COMMAND_STATES.resume, "resume");
export const stopRun = control(p.runStop, RUN_COMMAND_STATES.stop, "stop");

/** Resumes a run that another live process (a daemon of another window, a CLI) owns, after
 * saying what that does; the daemon answers RunBusy to a plain resume of such a run. */
export const takeOverRun = (ctx: Ctx): Cmd => async (arg) => {
  if (!needWorkspace(ctx) || !needTrust("Taking over a run")) return undefined;
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.open, "take over");
  if (!run) return undefined;
  const go = await vscode.window.showWarningMessage(
    `Take over run ${run.id}?`,
    {
      modal: true,
      detail: "The process that owns it now (another window's daemon or a hyperat CLI) stops writing to it before its next write; " +
        "this window's daemon then resumes it from its latest checkpoint. Steps after that checkpoint are trained again. " +
        "Use this when the owner is hung or you know it is gone.",
    },
    "Take Over",
  );
  if (go !== "Take Over") return undefined;
  const summary = await ctx.daemon.request(p.runResume, { runId: run.id, force: true });
  ctx.explorer.scheduleRefresh();
  return summary;
};

/**
 * Which checkpoint to merge or evaluate (the RPC's `from`): the command's argument when given;
 * for a call with its other choices as arguments (scripts, tests), the daemon's default (latest);
 * otherwise a quick pick of latest / best / step-N when the run keeps more than one.
 */
async function pickCheckpoint(ctx: Ctx, run: RunSummary, fromArg: unknown, verb: string, interactive: boolean): Promise<CheckpointRef | "cancelled" | undefined> {
  const given = checkpointArg(fromArg);
  if (given) return given;
  if (fromArg !== undefined) throw new Error(`HyperAT: ${verb}: checkpoint "${String(fromArg)}" is not best, latest or step-<n>`);
  if (!interactive) return undefined;
  const detail = await ctx.explorer.reader.readRun(run.id).catch(() => undefined);
  const choices = detail ? checkpointChoices(detail.artifacts, detail.best) : [];
  if (choices.length <= 1) return choices[0]?.from;
  const pick = await vscode.window.showQuickPick(choices, { title: `HyperAT: ${verb} ${run.id} from which checkpoint?` });
  return pick ? pick.from : "cancelled";
}

export const mergeRun = (ctx: Ctx): Cmd => async (arg, strategyArg, fromArg) => {
  if (!needWorkspace(ctx) || !needTrust("Merging a run")) return undefined;
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.merge, "merge");
  if (!run) return undefined;
  const strategy = strategyArg === "uniform" || strategyArg === "adaptive" ? strategyArg : (await vscode.window.showQuickPick(
    [
      { label: "adaptive", description: "per-(defense, layer) λ optimized on the val split", strategy: "adaptive" as const },
      { label: "uniform", description: "mean of the defenses' ΔW (HyperAT+)", strategy: "uniform" as const },
    ],
    { title: `HyperAT: merge ${run.id}` },
  ))?.strategy;
  if (!strategy) return undefined;
  const from = await pickCheckpoint(ctx, run, fromArg, "merge", strategyArg === undefined);
  if (from === "cancelled") return undefined;
  // The daemon's progress for this merge shows as a cancellable notification (progressTracker.ts).
  const merge = await waitOn(ctx, run.id, "merge", () => ctx.daemon.request(p.runMerge, { runId: run.id, strategy, ...(from ? { from } : {}) }));
  ctx.explorer.scheduleRefresh();
  if (!merge) return undefined;
  void vscode.window.showInformationMessage(`HyperAT: merged ${run.id} (${strategy}, ${merge.from ?? "latest"}${merge.step !== undefined ? ` = step ${merge.step}` : ""}) into ${vscode.workspace.asRelativePath(merge.modelPath)}.`);
  return merge;
};

export const evaluateRun = (ctx: Ctx): Cmd => async (arg, attacksArg, fromArg) => {
  if (!needWorkspace(ctx) || !needTrust("Evaluating a run")) return undefined;
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.evaluate, "evaluate");
  if (!run) return undefined;
  const attacks = typeof attacksArg === "string" ? attacksArg : (await vscode.window.showQuickPick(
    [
      { label: "quick", description: "PGD-20, CW-inf-20" },
      { label: "standard", description: "APGD-CE, APGD-T, FAB-T, Square (AutoAttack's standard version)" },
      { label: "full", description: "all of the above" },
    ],
    { title: `HyperAT: evaluate ${run.id}` },
  ))?.label;
  if (!attacks) return undefined;
  const from = await pickCheckpoint(ctx, run, fromArg, "evaluate", typeof attacksArg !== "string");
  if (from === "cancelled") return undefined;
  const result = await waitOn(ctx, run.id, "evaluate", () => ctx.daemon.request(p.runEvaluate, { runId: run.id, attacks, ...(from ? { from } : {}) }));
  ctx.explorer.scheduleRefresh();
  if (!result) return undefined;
  await openReportFile(run);
  return result;
};

/** Cancels the merge or evaluation in progress (also what Stop does on such a run). */
export const cancelOperation = (ctx: Ctx): Cmd => async (arg) => {
  if (!needWorkspace(ctx)) return undefined;
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.cancel, "cancel the merge or evaluation of");
  if (!run) return undefined;
  const summary = await ctx.daemon.request(p.runCancel, { runId: run.id });
  ctx.explorer.scheduleRefresh();
  return summary;
};

async function openReportFile(run: RunSummary): Promise<boolean> {
  const md = join(run.dir, "report.md");
  if (!existsSync(md)) return false;
  await vscode.commands.executeCommand("markdown.showPreview", vscode.Uri.file(md)).then(undefined, () => vscode.window.showTextDocument(vscode.Uri.file(md)));
  return true;
}

export const openReport = (ctx: Ctx): Cmd => async (arg) => {
  if (arg && typeof arg === "object" && typeof (arg as { file?: unknown }).file === "string") {
    return vscode.window.showTextDocument(vscode.Uri.file((arg as { file: string }).file));
  }
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.open, "open the report of");
  if (run && !(await openReportFile(run))) {
    void vscode.window.showInformationMessage(`HyperAT: ${run.id} has no report yet. Run "HyperAT: Evaluate Run" first.`);
  }
  return undefined;
};

export const openDashboard = (ctx: Ctx): Cmd => async (arg) => {
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.open, "show");
  if (run) ctx.dashboards.show(run.id);
  return run?.id;
};

export const revealRunFolder = (ctx: Ctx): Cmd => async (arg) => {
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.open, "reveal");
  if (!run) return undefined;
  const uri = vscode.Uri.file(run.dir);
  // Inside the workspace the Explorer is the right place (also over Remote-SSH); the OS file manager otherwise.
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand("revealInExplorer", uri);
  else await vscode.commands.executeCommand("revealFileInOS", uri);
  return undefined;
};

/** Delete Run (asks first) and Archive Run: one run folder, settled runs only (runRemoval.ts). */
const removeRunCommand = (mode: RemovalMode) => (ctx: Ctx): Cmd => async (arg) => {
  if (!needWorkspace(ctx) || !needTrust(mode === "delete" ? "Deleting a run" : "Archiving a run", "changes the runs folder")) return undefined;
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.remove, mode);
  if (!run) return undefined;
  if (mode === "delete") {
    const go = await vscode.window.showWarningMessage(
      `Delete run ${runTitle(run)}?`,
      { modal: true, detail: `This removes ${run.dir} (checkpoints, adapters, merged models, reports) and nothing else. It cannot be undone; Archive Run keeps it under .hyperat/archive instead.` },
      "Delete",
    );
    if (go !== "Delete") return undefined;
  }
  const where = await removeRun(ctx.runsDir!, run.id, mode);
  forgetRun(ctx, run.id);
  void vscode.window.setStatusBarMessage(mode === "delete" ? `HyperAT: deleted ${runTitle(run)}` : `HyperAT: archived ${runTitle(run)} to ${vscode.workspace.asRelativePath(where)}`, 5000);
  return where;
};

/** The run is gone from the runs folder: drop what the window holds about it. */
function forgetRun(ctx: Ctx, runId: string): void {
  ctx.watch.forget(runId);
  ctx.dashboards.close(runId);
  ctx.explorer.refresh();
}

export const deleteRun = removeRunCommand("delete");
export const archiveRun = removeRunCommand("archive");

/** The file of a Runs tree file row (checkpoint, adapter, merged model, report). */
function fileOf(arg: unknown): string | undefined {
  const f = arg && typeof arg === "object" ? (arg as { file?: unknown }).file : undefined;
  return typeof f === "string" ? f : undefined;
}

export const copyPath = (): Cmd => async (arg) => {
  const file = fileOf(arg);
  if (!file) {
    void vscode.window.showInformationMessage("HyperAT: Copy Path copies the path of a file row in the Runs tree (a checkpoint, adapter or merged model): right-click one.");
    return undefined;
  }
  await vscode.env.clipboard.writeText(file);
  void vscode.window.setStatusBarMessage(`HyperAT: copied ${file}`, 3000);
  return file;
};

export const revealFile = (): Cmd => async (arg) => {
  const file = fileOf(arg);
  if (!file) {
    void vscode.window.showInformationMessage("HyperAT: Reveal File shows a file row of the Runs tree in the Explorer: right-click one.");
    return undefined;
  }
  const uri = vscode.Uri.file(file);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand("revealInExplorer", uri);
  else await vscode.commands.executeCommand("revealFileInOS", uri);
  return undefined;
};

export const refreshRuns = (ctx: Ctx): Cmd => async () => ctx.explorer.refresh();

export const restartDaemon = (ctx: Ctx): Cmd => async () => {
  // Restarting pauses the runs it trains (writes checkpoints) and starts a configured program.
  if (!needWorkspace(ctx) || !needTrust("Restarting the daemon", "pauses its runs and starts the configured daemon program")) return undefined;
  await ctx.daemon.restart();
  void vscode.window.showInformationMessage(`HyperAT: daemon restarted (backend ${ctx.daemon.info?.backend ?? "?"}).`);
  return undefined;
};

export const showLogs = (ctx: Ctx): Cmd => async () => ctx.log.show(true);

/** Command id (without "hyperat.") -> factory; extension.ts registers them all. */
export const COMMANDS: Record<string, (ctx: Ctx) => Cmd> = {
  selectConfig, newConfig, startRun, pauseRun, resumeRun, stopRun, takeOverRun, cancelOperation, mergeRun, evaluateRun,
  openDashboard, openReport, revealRunFolder, archiveRun, deleteRun, copyPath, revealFile, refreshRuns, restartDaemon, showLogs,
  renameRun, editRunTags, editRunNote, groupRunsByConfig, ungroupRuns, evaluateModel, exportModel,
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([name, factory]) => vscode.commands.registerCommand(`hyperat.${name}`, guarded(name, factory(ctx))));
}
