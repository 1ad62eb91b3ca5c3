// Which models a run has, for "Evaluate This Model" (issue 16 item 5): checked before the run
// changes state, so a model the run lacks is an InvalidParams error naming it, not a failed
// evaluation. The engine looks again when it evaluates (src/daemon/engine/modelReport.ts).
import * as path from "node:path";
import { describeModel, modelOfArtifact, modelSlug, type ModelSelector } from "../protocol/modelSelector";
import { InvalidParamsError } from "./rpcErrors";
import { listArtifacts } from "./runStore";

/** The run's models: the base, one adapter per defense (none for full-at, which tunes the whole
 * backbone), and each merge on disk (both layouts, src/daemon/engine/exports.ts). */
export async function runModels(runDir: string, run: { method: string; defenses: readonly string[] }): Promise<ModelSelector[]> {
  const merged = (await listArtifacts(runDir)).merged.map(modelOfArtifact).filter((m): m is ModelSelector => m?.kind === "merged");
  const unique = new Map(merged.map((m) => [modelSlug(m), m]));
  return [
    { kind: "base" },
    ...(run.method === "full-at" ? [] : run.defenses.map((defense): ModelSelector => ({ kind: "adapter", defense }))),
    ...unique.values(),
  ];
}

/** Throws InvalidParamsError when the run in `runDir` has no such model, listing those it has. */
export async function assertRunHasModel(runDir: string, run: { id: string; method: string; defenses: readonly string[] }, model: ModelSelector): Promise<void> {
  const have = await runModels(path.resolve(runDir), run);
  if (have.some((m) => modelSlug(m) === modelSlug(model))) return;
  throw new InvalidParamsError(`hyperat/run.evaluate: run ${run.id} has no ${modelSlug(model)} (${describeModel(model)}); its models: ${have.map(modelSlug).join(", ")}`);
}
