import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { BestRecord, CheckpointRef } from "../../protocol/runs";

export const CHECKPOINT_RE = /^step-(\d+)\.json$/;
/** checkpoints/best/: the checkpoint with the best validation record, beside the newest N. */
export const BEST_DIR = "best";

export interface CheckpointFiles {
  step: number;
  json: string;
  tensors: string;
}

/** The newest complete checkpoint in `dir` (its .json is written last, so its presence means complete). */
export async function newestIn(dir: string): Promise<CheckpointFiles | undefined> {
  const steps = await completeSteps(dir);
  if (steps.length === 0) return undefined;
  const s = steps[steps.length - 1];
  return { step: s, json: path.join(dir, `step-${s}.json`), tensors: path.join(dir, `step-${s}.safetensors`) };
}

/** Steps of the complete checkpoints in `dir`, ascending. */
export async function completeSteps(dir: string): Promise<number[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const steps: number[] = [];
  for (const n of names) {
    const m = CHECKPOINT_RE.exec(n);
    if (m && names.includes(`step-${m[1]}.safetensors`)) steps.push(Number(m[1]));
  }
  return steps.sort((a, b) => a - b);
}

export function isCheckpointRef(s: string): s is CheckpointRef {
  return s === "best" || s === "latest" || /^step-\d+$/.test(s);
}

/**
 * The checkpoint `ref` names in a run: "latest" the newest, "best" the one in checkpoints/best/,
 * "step-N" that step (kept among the newest, or as the best). Throws listing what exists.
 */
export async function resolveCheckpoint(runDir: string, ref: CheckpointRef): Promise<CheckpointFiles> {
  const dir = path.join(runDir, "checkpoints");
  const bestDir = path.join(dir, BEST_DIR);
  let found: CheckpointFiles | undefined;
  if (ref === "latest") found = await newestIn(dir);
  else if (ref === "best") found = await newestIn(bestDir);
  else {
    const step = Number(ref.slice("step-".length));
    for (const d of [dir, bestDir]) {
      if ((await completeSteps(d)).includes(step)) {
        found = { step, json: path.join(d, `step-${step}.json`), tensors: path.join(d, `step-${step}.safetensors`) };
        break;
      }
    }
  }
  if (found) return found;
  const kept = (await completeSteps(dir)).map((s) => `step-${s}`);
  const best = (await completeSteps(bestDir)).map((s) => `best = step-${s}`);
  const have = [...kept, ...best];
  throw new Error(
    `${dir}: no checkpoint "${ref}"${ref === "best" ? " (the best is saved at each validation: training.validateEvery)" : ""}; ` + (have.length ? `available: ${have.join(", ")}` : "the run has no checkpoints yet"),
  );
}

/** The record checkpoints/best/ was chosen by, or undefined when there is none yet. */
export async function readBestRecord(runDir: string): Promise<BestRecord | undefined> {
  const best = await newestIn(path.join(runDir, "checkpoints", BEST_DIR));
  if (!best) return undefined;
  const doc = JSON.parse(await fs.readFile(best.json, "utf8")) as { best?: BestRecord };
  return doc.best;
}

/** Removes all but the newest `keep` checkpoints of `dir` (by their .json halves). */
export async function pruneCheckpoints(dir: string, keep: number): Promise<void> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const steps = names.map((n) => CHECKPOINT_RE.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => b - a);
  for (const s of steps.slice(keep)) {
    await fs.rm(path.join(dir, `step-${s}.json`), { force: true });
    await fs.rm(path.join(dir, `step-${s}.safetensors`), { force: true });
  }
}
