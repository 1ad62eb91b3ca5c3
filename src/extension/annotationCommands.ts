// Rename Run…, Edit Tags… and Edit Note… (issue 14 item 3): input boxes that write the run
// folder's annotations.json (src/daemon/runAnnotations.ts). The extension writes it for every
// run, daemon-owned or started from a terminal: the daemon never writes that file, so there is
// nothing to ask it. Renaming changes the label only (the id and folder stay); empty input
// clears. Writing a label is not running code, so these work in an untrusted workspace too.
import * as vscode from "vscode";
import type { Cmd } from "./commands";
import type { RunAnnotations, RunSummary } from "../protocol/runs";
import { RUN_COMMAND_STATES } from "./runCommandStates";
import { updateRunAnnotations } from "../daemon/runAnnotations";
import { displayNameProblem, noteFromInput, noteProblem, noteToInput, tagsFromInput, tagsInUse, tagsProblem, tagsToInput } from "./annotationInput";
import type { Ctx } from "./ctx";
import { pickRun } from "./runPick";
import { runTitle } from "./runNotices";

interface AnnotationEdit {
  verb: string;
  /** The box: title, current value, hints, check while typing. */
  box(run: RunSummary, runs: readonly RunSummary[]): vscode.InputBoxOptions;
  /** The typed text as the fields to replace. */
  patch(text: string): Partial<RunAnnotations>;
}

/** Asks, writes, and tells the views (extension.ts refreshes the tree, dashboard and compare panel). */
const annotate = (edit: AnnotationEdit) => (ctx: Ctx): Cmd => async (arg) => {
  if (!ctx.runsDir) {
    void vscode.window.showInformationMessage("HyperAT needs an open folder: runs live in its .hyperat/runs folder.");
    return undefined;
  }
  const run = await pickRun(ctx, arg, RUN_COMMAND_STATES.open, edit.verb);
  if (!run) return undefined;
  if (run.annotationsProblem) {
    const go = await vscode.window.showWarningMessage(
      `The annotations of ${run.id} cannot be read; saving replaces them.`,
      { modal: true, detail: run.annotationsProblem },
      "Replace",
    );
    if (go !== "Replace") return undefined;
  }
  const runs = await ctx.explorer.reader.listRuns().catch(() => []);
  const text = await vscode.window.showInputBox({ ignoreFocusOut: true, ...edit.box(run, runs) });
  if (text === undefined) return undefined; // dismissed: nothing changes
  const stored = await updateRunAnnotations(run.dir, edit.patch(text));
  ctx.onDidAnnotateRun.fire(run.id);
  return stored;
};

export const renameRun = annotate({
  verb: "rename",
  box: (run) => ({
    title: `HyperAT: rename ${runTitle(run)}`,
    value: run.annotations?.displayName ?? "",
    placeHolder: runTitle({ ...run, annotations: undefined }),
    prompt: `The label in the Runs tree, dashboards and comparisons; the id ${run.id} and its folder stay. Empty clears.`,
    validateInput: displayNameProblem,
  }),
  patch: (text) => ({ displayName: text }),
});

export const editRunTags = annotate({
  verb: "tag",
  box: (run, runs) => {
    const used = tagsInUse(runs).filter((t) => !run.annotations?.tags.includes(t));
    return {
      title: `HyperAT: tags of ${runTitle(run)}`,
      value: tagsToInput(run.annotations?.tags),
      placeHolder: used.length ? `in use: ${used.join(", ")}` : "baseline, eps8",
      prompt: "Words separated by commas or spaces. Empty clears.",
      validateInput: tagsProblem,
    };
  },
  patch: (text) => ({ tags: tagsFromInput(text) }),
});

export const editRunNote = annotate({
  verb: "note",
  box: (run) => ({
    title: `HyperAT: note on ${runTitle(run)}`,
    value: noteToInput(run.annotations?.note),
    placeHolder: "why this run, what to look at",
    prompt: "Markdown, shown in the run's tooltip. Type \\n for a line break (\\\\ for a backslash). Empty clears.",
    validateInput: noteProblem,
  }),
  patch: (text) => ({ note: noteFromInput(text) }),
});
