// "HyperAT: New Config…": pick a template (configTemplates.ts), for the CIFAR-10 one a ViT
// checkpoint, then where to save the file; opens it and selects it for "Start Run".
import * as vscode from "vscode";
import type { Cmd } from "./commands";
import type { Ctx } from "./ctx";
import { CONFIG_TEMPLATES, configFilePath, configName, renderTemplate } from "./configTemplates";

export const newConfig = (ctx: Ctx): Cmd => async () => {
  const pick = await vscode.window.showQuickPick(
    CONFIG_TEMPLATES.map((t) => ({ label: t.label, description: t.description, template: t })),
    { title: "HyperAT: new config from a template" },
  );
  if (!pick) return undefined;
  const t = pick.template;
  let checkpoint: string | undefined;
  if (t.needsCheckpoint) {
    const files = await vscode.window.showOpenDialog({
      title: "HyperAT: your pretrained ViT (timm-named safetensors); cancel to fill model.path in later",
      canSelectMany: false,
      filters: { safetensors: ["safetensors"] },
      defaultUri: ctx.workspaceFolder ? vscode.Uri.file(ctx.workspaceFolder) : undefined,
    });
    checkpoint = files?.[0]?.fsPath;
  }
  const base = ctx.workspaceFolder ? vscode.Uri.file(ctx.workspaceFolder) : undefined;
  const target = await vscode.window.showSaveDialog({
    title: "HyperAT: save the new config",
    defaultUri: base && vscode.Uri.joinPath(base, `${t.id === "demo" ? "demo" : String(t.base.name)}.hyperat.json`),
    filters: { "HyperAT config": ["hyperat.json"] },
  });
  if (!target) return undefined;
  const file = target.with({ path: configFilePath(target.path) });
  const stem = file.path.split("/").pop()!;
  const text = renderTemplate(t, { name: configName(stem), file: file.fsPath, checkpoint });
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(text));
  await vscode.window.showTextDocument(file);
  await ctx.setSelectedConfig(file);
  if (t.needsCheckpoint && !checkpoint) {
    void vscode.window.showInformationMessage("HyperAT: set model.path to your ViT checkpoint and data.* to your CIFAR-10 binary folder before starting.");
  }
  return file;
};
