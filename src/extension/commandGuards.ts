// What every command checks before it acts (an open folder, a trusted workspace) and how it waits
// on a long daemon request; shared by commands.ts and modelCommands.ts.
import * as vscode from "vscode";
import { ResponseError } from "vscode-jsonrpc";
import * as p from "../protocol";
import type { Ctx } from "./ctx";

export function needWorkspace(ctx: Ctx): ctx is Ctx & { workspaceFolder: string; daemon: NonNullable<Ctx["daemon"]> } {
  if (ctx.workspaceFolder && ctx.daemon) return true;
  void vscode.window.showInformationMessage("HyperAT needs an open folder: runs live in its .hyperat/runs folder.");
  return false;
}

export function needTrust(what: string, why = "runs training code"): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${what} ${why}, which needs a trusted workspace. Browsing runs and reports works untrusted.`, "Manage Workspace Trust")
    .then((pick) => pick && vscode.commands.executeCommand("workbench.trust.manage"));
  return false;
}

/** Runs a merge/evaluate request the user waits on; a cancel (OperationCancelled) is not an error. */
export async function waitOn<R>(ctx: Ctx, runId: string, operation: "merge" | "evaluate", request: () => Promise<R>): Promise<R | undefined> {
  const release = ctx.progress?.expect(runId, operation);
  try {
    return await request();
  } catch (e) {
    if (e instanceof ResponseError && e.code === p.ErrorCodes.OperationCancelled) {
      void vscode.window.showInformationMessage(`HyperAT: ${operation === "merge" ? "merge" : "evaluation"} of ${runId} cancelled; nothing was written.`);
      return undefined;
    }
    throw e;
  } finally {
    release?.();
  }
}
