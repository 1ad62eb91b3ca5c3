// Export… of a model row (issue 16 item 5), without vscode: which layouts a model can be exported
// in, which run files each layout takes, and the copy itself, into a temp folder beside the
// destination that is then renamed (src/core/io/folderAtomic.ts). modelCommands.ts asks the user.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { writeFolderAtomic } from "../core/io/folderAtomic";
import { describeModel, modelSlug, type ModelSelector } from "../protocol/modelSelector";

export type ExportLayoutId = "timm" | "weights" | "peft";

export interface ExportLayout {
  id: ExportLayoutId;
  label: string;
  description: string;
}

const LAYOUTS: Record<ExportLayoutId, ExportLayout> = {
  timm: { id: "timm", label: "timm local dir", description: "model.safetensors + config.json + model card + merge.json (timm.create_model(\"local-dir:…\"))" },
  weights: { id: "weights", label: "weights only", description: "model.safetensors (with the run's provenance in its metadata)" },
  peft: { id: "peft", label: "PEFT adapter", description: "adapter_model.safetensors + adapter_config.json (PeftModel.from_pretrained)" },
};

/** One file to copy: absolute source, name inside the destination folder. */
export interface ExportFile {
  from: string;
  to: string;
}

/** The files each layout of `model` takes, from the run folder as it is now (src/daemon/engine/exports.ts
 * writes them): a merge's folder gives timm and weights, an older run's flat merge file only weights,
 * an adapter folder PEFT. The base model is not a file of the run and has no layout here. */
export async function exportChoices(runDir: string, model: ModelSelector): Promise<Array<{ layout: ExportLayout; files: ExportFile[] }>> {
  if (model.kind === "adapter") {
    const files = await folderFiles(path.join(runDir, "adapters", model.defense));
    return files.some((f) => f.to === "adapter_model.safetensors") ? [{ layout: LAYOUTS.peft, files }] : [];
  }
  if (model.kind === "merged") {
    const folder = await folderFiles(path.join(runDir, "merged", model.strategy));
    const weights = folder.find((f) => f.to === "model.safetensors");
    if (weights) return [{ layout: LAYOUTS.timm, files: folder }, { layout: LAYOUTS.weights, files: [weights] }];
    const legacy = path.join(runDir, "merged", `model-${model.strategy}.safetensors`);
    return (await isFile(legacy)) ? [{ layout: LAYOUTS.weights, files: [{ from: legacy, to: "model.safetensors" }] }] : [];
  }
  return [];
}

/** "demo-merged-uniform": the destination folder's default name. */
export function exportFolderName(runName: string, model: ModelSelector): string {
  return `${runName.replace(/[^A-Za-z0-9._-]+/g, "-")}-${modelSlug(model)}`;
}

/** Why `model` cannot be exported from `runDir`, for a message. */
export function nothingToExport(model: ModelSelector): string {
  return model.kind === "base" ? "the base model is not a file of the run (it is the run's model.path or pretrained backbone)" : `${describeModel(model)} has no files in the run folder`;
}

/**
 * Copies `files` into `dest`, whole or not at all. An existing non-empty `dest` is refused unless
 * `replace` (the caller asks first). Returns the destination's file names.
 */
export async function exportModelFiles(files: readonly ExportFile[], dest: string, opts: { replace?: boolean } = {}): Promise<string[]> {
  if (files.length === 0) throw new Error(`nothing to export into ${dest}`);
  await writeFolderAtomic(dest, async (tmp) => {
    for (const f of files) await fs.copyFile(f.from, path.join(tmp, f.to));
  }, opts);
  return files.map((f) => f.to);
}

/** The regular, non-hidden files directly in `dir` (temp files of atomic writes are dot-prefixed). */
async function folderFiles(dir: string): Promise<ExportFile[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && !e.name.startsWith(".")).map((e) => ({ from: path.join(dir, e.name), to: e.name })).sort((a, b) => a.to.localeCompare(b.to));
}

async function isFile(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => undefined))?.isFile() ?? false;
}
