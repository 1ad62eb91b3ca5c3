// Which run a command acts on: the one its argument names (a tree row, a run id, a summary), or
// one the user picks among runs in the states the command accepts (src/protocol/runStates.ts).
// Explains itself when there is none, so a command never fails silently.
import * as vscode from "vscode";
import type { RunState, RunSummary } from "../protocol/runs";
import { Ctx } from "./ctx";
import { runTitle } from "./runNotices";
import { tagsText } from "./runTree";

/** The run named by the argument, or one picked among runs in `states`; explains when there is none. */
export async function pickRun(ctx: Ctx, arg: unknown, states: readonly RunState[], verb: string): Promise<RunSummary | undefined> {
  const runs = await ctx.explorer.reader.listRuns().catch(() => []);
  const id = Ctx.runIdFrom(arg);
  if (id) {
    const run = runs.find((r) => r.id === id);
    if (!run) void vscode.window.showWarningMessage(`HyperAT: no run "${id}" in ${ctx.runsDir}.`);
    return run;
  }
  const candidates = runs.filter((r) => states.includes(r.state));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`HyperAT: no run to ${verb} (needs a run that is ${states.join(", ")}).`);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((r) => ({ label: runTitle(r), description: [tagsText(r.annotations?.tags), `${r.state} · step ${r.step}/${r.totalSteps}`].filter(Boolean).join(" · "), detail: `${r.id} · ${r.configPath}`, run: r })),
    { title: `HyperAT: run to ${verb}` },
  );
  return pick?.run;
}
