// "Evaluate This Model" (issue 16 item 5) on the engine side: which of a run's evaluated models
// the selector names, and writing that one model's report into its own folder. The evaluation
// itself is evaluateRun.ts's, on a list of one.
import * as path from "node:path";
import { writeFolderAtomic } from "../../core/io/folderAtomic";
import { describeModel, modelSlug, type ModelSelector } from "../../protocol/modelSelector";
import { InvalidParamsError } from "../rpcErrors";

const same = (a: ModelSelector, b: ModelSelector) => modelSlug(a) === modelSlug(b);

/** The one model of `all` that `model` names; InvalidParams naming it (and what there is) otherwise. */
export function pickModel<V extends { model?: ModelSelector; name: string }>(all: V[], model: ModelSelector): V {
  const hit = all.find((v) => v.model && same(v.model, model));
  if (hit) return hit;
  const have = all.filter((v) => v.model).map((v) => modelSlug(v.model!));
  throw new InvalidParamsError(`this run has no ${modelSlug(model)} (${describeModel(model)}); its models: ${have.join(", ") || "none"}`);
}

/** reports/<model>-<time>, checked to be one folder directly under reports/ (never elsewhere). */
export function modelReportFolder(runDir: string, reportDir: string): string {
  if (!/^reports\/[A-Za-z0-9][A-Za-z0-9._-]*$/.test(reportDir)) throw new InvalidParamsError(`report folder "${reportDir}" is not reports/<name>`);
  return path.join(runDir, ...reportDir.split("/"));
}

/** Writes one model's report files (`fill` writes them into the folder it is given) so that
 * reports/<model>-<time>/ appears whole or not at all. */
export async function writeModelReport(runDir: string, reportDir: string, fill: (dir: string) => Promise<void>): Promise<string> {
  const folder = modelReportFolder(runDir, reportDir);
  await writeFolderAtomic(folder, fill);
  return folder;
}
