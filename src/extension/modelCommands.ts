// The model rows' commands (issue 16 item 5): Evaluate This Model and Export…. Their logic lives in
// vscode-free modules (src/protocol/modelSelector.ts, modelExport.ts); this is the glue.
import { dirname, join } from "node:path";
import * as vscode from "vscode";
import * as p from "../protocol";
import { describeModel, parseModelSelector, type ModelSelector } from "../protocol/modelSelector";
import { folderHasContent } from "../core/io/folderAtomic";
import { formatPercent } from "../core/evaluate/percent";
import type { Ctx } from "./ctx";
import { needTrust, needWorkspace, waitOn } from "./commandGuards";
import { RUN_COMMAND_STATES } from "./runCommandStates";
import { pickRun } from "./runPick";
import { runTitle } from "./runNotices";
import { exportChoices, exportFolderName, exportModelFiles, nothingToExport } from "./modelExport";

type Cmd = (...args: unknown[]) => Promise<unknown>;

/** The model a command is about: a tree row's (runTree.ts `model`), or the second argument (scripts, tests). */
function modelFrom(arg: unknown, modelArg: unknown): ModelSelector {
  const given = modelArg ?? (arg && typeof arg === "object" ? (arg as { model?: unknown }).model : undefined);
  const m = parseModelSelector(given, "the model");
  if ("problem" in m) throw new Error(`run it from a model row of the Runs tree (${m.problem})`);
  return m;
}

/** Evaluate This Model: that model only, with the run's evaluation settings; the report opens when done. */
export const evaluateModel = (ctx: Ctx): Cmd => async (arg, modelArg) => {
  if (!needWorkspace(ctx) || !needTrust("Evaluating a model")) return undefined;
  const model = modelFrom(arg, modelArg);
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.evaluate, `evaluate ${describeModel(model)} of`);
  if (!run) return undefined;
  // The daemon's progress for it shows as a cancellable notification (progressTracker.ts), as for Evaluate Run.
  const result = await waitOn(ctx, run.id, "evaluate", () => ctx.daemon.request(p.runEvaluate, { runId: run.id, model }));
  ctx.explorer.scheduleRefresh();
  if (!result) return undefined;
  const row = result.report.models[0];
  void vscode.window.showInformationMessage(`HyperAT: ${describeModel(model)} of ${runTitle(run)}: worst case ${formatPercent(row?.worstCaseRobustAccuracy)}, clean ${formatPercent(row?.cleanAccuracy)}.`);
  const md = vscode.Uri.file(join(dirname(result.reportPath), "report.md"));
  await vscode.commands.executeCommand("markdown.showPreview", md).then(undefined, () => vscode.window.showTextDocument(md));
  return result;
};

/**
 * Export…: asks for the layout (when the model has more than one) and a folder to export into,
 * then copies the model there as <run>-<model>/, whole or not at all; an existing non-empty
 * folder is replaced only after asking. Arguments after the row (scripts, tests): the parent
 * folder, the layout id, and true to replace without asking.
 */
export const exportModel = (ctx: Ctx): Cmd => async (arg, parentArg, layoutArg, replaceArg) => {
  const model = modelFrom(arg, undefined);
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.export, `export ${describeModel(model)} of`);
  if (!run) return undefined;
  if (!RUN_COMMAND_STATES.export.includes(run.state)) {
    void vscode.window.showInformationMessage(`HyperAT: ${runTitle(run)} is ${run.state}; export once it is ${RUN_COMMAND_STATES.export.join(", ")} (its model files may be rewritten meanwhile).`);
    return undefined;
  }
  const choices = await exportChoices(run.dir, model);
  if (choices.length === 0) {
    void vscode.window.showInformationMessage(`HyperAT: nothing to export: ${nothingToExport(model)}.`);
    return undefined;
  }
  const chosen = typeof layoutArg === "string"
    ? choices.find((c) => c.layout.id === layoutArg)
    : choices.length === 1
      ? choices[0]
      : (await vscode.window.showQuickPick(choices.map((c) => ({ label: c.layout.label, description: c.layout.description, choice: c })), { title: `HyperAT: export ${describeModel(model)} as` }))?.choice;
  if (!chosen) {
    if (typeof layoutArg === "string") throw new Error(`${describeModel(model)} has no layout "${layoutArg}"; it has ${choices.map((c) => c.layout.id).join(", ")}`);
    return undefined;
  }
  const parent = typeof parentArg === "string"
    ? parentArg
    : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: "Export Here", title: `HyperAT: folder to export ${describeModel(model)} into` }))?.[0]?.fsPath;
  if (!parent) return undefined;
  const dest = join(parent, exportFolderName(run.name, model));
  let replace = replaceArg === true;
  if (!replace && (await folderHasContent(dest))) {
    const go = await vscode.window.showWarningMessage(`${dest} already exists and is not empty. Replace it?`, { modal: true, detail: "Its files are replaced by the export, all at once; nothing else is touched." }, "Replace");
    if (go !== "Replace") return undefined;
    replace = true;
  }
  const files = await exportModelFiles(chosen.files, dest, { replace });
  void vscode.window.showInformationMessage(`HyperAT: exported ${describeModel(model)} of ${runTitle(run)} (${chosen.layout.label}) to ${dest}.`, "Reveal")
    .then((pick) => pick && vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(dest)));
  return { dest, files, layout: chosen.layout.id };
};
