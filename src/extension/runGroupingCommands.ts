// The Runs view's toolbar toggle between a flat list and runs grouped by config (runGrouping.ts).
// The choice is the setting hyperat.runs.groupBy, so it persists and can also be set by hand;
// the toggle writes it where it is already set (a workspace that chose, else the user's settings,
// so toggling never creates a .vscode/settings.json in the user's project).
import * as vscode from "vscode";
import type { Cmd } from "./commands";
import type { RunGrouping } from "./runGrouping";

const setGrouping = (value: RunGrouping) => (): Cmd => async () => {
  const config = vscode.workspace.getConfiguration("hyperat");
  const where = config.inspect<string>("runs.groupBy");
  const target = where?.workspaceFolderValue !== undefined
    ? vscode.ConfigurationTarget.WorkspaceFolder
    : where?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update("runs.groupBy", value, target);
  return value;
};

export const groupRunsByConfig = setGrouping("config");
export const ungroupRuns = setGrouping("none");
