// "HyperAT: Compare Runs…": the runs selected in the Runs tree (its view allows multi-select;
// a context-menu command gets the clicked node and the selection), else picked in a
// multi-select quick pick. Two or more runs open the comparison panel (comparePanel.ts).
import * as vscode from "vscode";
import type { RunSummary } from "../protocol/runs";
import { Ctx } from "./ctx";
import type { ComparePanel } from "./comparePanel";
import { runIdsFromArgs } from "./compareData";

export const compareRuns = (ctx: Ctx, panel: ComparePanel) => async (clicked?: unknown, selected?: unknown): Promise<string[] | undefined> => {
  try {
    const chosen = runIdsFromArgs(clicked, selected, Ctx.runIdFrom);
    if (chosen.length >= 2) {
      panel.show(chosen);
      return chosen;
    }
    const runs = await ctx.explorer.reader.listRuns().catch((): RunSummary[] => []);
    if (runs.length < 2) {
      void vscode.window.showInformationMessage(`HyperAT: comparing needs at least two runs; ${ctx.runsDir ?? "this workspace"} has ${runs.length}.`);
      return undefined;
    }
    const picks = await vscode.window.showQuickPick(
      runs.map((r) => ({ label: r.id, description: `${r.name} · ${r.state} · step ${r.step}/${r.totalSteps}`, picked: chosen.includes(r.id), id: r.id })),
      { canPickMany: true, title: "HyperAT: Compare Runs", placeHolder: "Choose two or more runs" },
    );
    if (!picks) return undefined;
    if (picks.length < 2) {
      void vscode.window.showInformationMessage("HyperAT: choose at least two runs to compare.");
      return undefined;
    }
    const ids = picks.map((p) => p.id);
    panel.show(ids);
    return ids;
  } catch (e) {
    void vscode.window.showErrorMessage(`HyperAT compareRuns: ${(e as Error).message}`);
    return undefined;
  }
};
