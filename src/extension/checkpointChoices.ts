// The `--from` choices Merge and Evaluate offer in a quick pick: latest, best (what
// checkpoints/best/ holds, described as describeBest says) and each kept step-N. Built from the
// run's artifact list (src/daemon/runStore.ts listArtifacts); a checkpoint counts only when both
// its .safetensors and .json are there, as the daemon requires (src/daemon/engine/checkpointFiles.ts).
import { BestRecord, CheckpointRef, RunArtifacts, describeBest } from "../protocol/runs";
import { isCheckpointRef } from "../daemon/engine/checkpointFiles";

export interface CheckpointChoice {
  label: string;
  description: string;
  from: CheckpointRef;
}

function completeSteps(files: string[], folder: string): number[] {
  const steps = (ext: string) =>
    new Set(files.flatMap((f) => {
      const m = new RegExp(`^${folder}/step-(\\d+)\\.${ext}$`).exec(f);
      return m ? [Number(m[1])] : [];
    }));
  const weights = steps("safetensors");
  return [...steps("json")].filter((s) => weights.has(s)).sort((a, b) => b - a);
}

/** Newest first: latest, best, then the other kept steps; empty when the run has no checkpoint. */
export function checkpointChoices(artifacts: Pick<RunArtifacts, "checkpoints">, best?: BestRecord): CheckpointChoice[] {
  const steps = completeSteps(artifacts.checkpoints, "checkpoints");
  const bestSteps = completeSteps(artifacts.checkpoints, "checkpoints/best");
  const out: CheckpointChoice[] = [];
  if (steps.length) out.push({ label: "latest", description: `step ${steps[0]} (newest checkpoint)`, from: "latest" });
  if (bestSteps.length) {
    const what = best && best.step === bestSteps[0] ? describeBest(best) : `step ${bestSteps[0]}`;
    out.push({ label: "best", description: `${what} (checkpoints/best)`, from: "best" });
  }
  for (const s of steps.slice(1)) out.push({ label: `step-${s}`, description: `step ${s}`, from: `step-${s}` });
  return out;
}

/** A command argument naming a checkpoint ("best", "latest", "step-N"), else undefined. */
export function checkpointArg(v: unknown): CheckpointRef | undefined {
  return typeof v === "string" && isCheckpointRef(v) ? v : undefined;
}
