// "HyperAT: New Config…" templates, built from the example configs in examples/ (the same files
// the README and the demo use, so a template cannot drift from what is tested). Pure: the
// command (newConfig.ts) asks where to put the file and which checkpoint to use; this renders it.
import * as path from "node:path";
import demo from "../../examples/demo.hyperat.json";
import cifar from "../../examples/cifar10-vit-b16.hyperat.json";
import loraAt from "../../examples/baseline-lora-at.hyperat.json";
import fullAt from "../../examples/baseline-full-at.hyperat.json";

export interface ConfigTemplate {
  id: "demo" | "cifar10-vit" | "lora-at" | "full-at";
  label: string;
  description: string;
  /** Asks the user for a ViT checkpoint (safetensors) that model.path points to. */
  needsCheckpoint: boolean;
  base: Record<string, unknown>;
}

export const CONFIG_TEMPLATES: readonly ConfigTemplate[] = [
  { id: "demo", label: "Demo on synthetic data", description: "vit-micro on shapes10: the whole pipeline in minutes on a CPU", needsCheckpoint: false, base: demo },
  { id: "cifar10-vit", label: "CIFAR-10 + your ViT checkpoint", description: "HyperAT over PGD-AT, TRADES and MART on a timm ViT (safetensors)", needsCheckpoint: true, base: cifar },
  { id: "lora-at", label: "Baseline: LoRA-AT (one defense)", description: "plain LoRA adversarial tuning, the paper's cheap baseline", needsCheckpoint: false, base: loraAt },
  { id: "full-at", label: "Baseline: full-AT", description: "full-parameter adversarial fine-tuning, the paper's expensive baseline", needsCheckpoint: false, base: fullAt },
];

export interface RenderOptions {
  /** The run name (also the file's stem); default the template's. */
  name?: string;
  /** Absolute path of the file being written: relative paths inside are made against its folder. */
  file: string;
  /** Absolute path of the ViT checkpoint (for templates that need one). */
  checkpoint?: string;
}

/** A config name as the schema allows it, from what the user typed or the file name. */
export function configName(raw: string): string {
  const n = raw.replace(/\.hyperat\.json$/i, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "");
  return n || "run";
}

/**
 * The path the new config is written to, from the one the save dialog returned: one
 * `.hyperat.json` suffix, whatever the dialog made of it. VS Code's own save dialog (the one
 * remote and web windows use) appends the filter's extension when the name's last extension
 * differs, and the last extension of `demo.hyperat.json` is `.json`, so it returned
 * `demo.hyperat.json.hyperat.json` (seen in test/e2e/ui/newcomer.e2e.ts); a typed `run` or
 * `run.json` becomes `run.hyperat.json`, which the file glob of the extension matches.
 */
export function configFilePath(picked: string): string {
  return `${picked.replace(/(?:\.hyperat\.json|\.hyperat|\.json)+$/i, "")}.hyperat.json`;
}

/** The config document for `template`, pretty-printed with a final newline. */
export function renderTemplate(template: ConfigTemplate, opts: RenderOptions): string {
  const doc = structuredClone(template.base);
  // The editor validates *.hyperat.json through contributes.jsonValidation; the examples'
  // relative $schema would point nowhere in a user's workspace.
  delete doc.$schema;
  doc.name = configName(opts.name ?? String(doc.name));
  if (template.needsCheckpoint && opts.checkpoint) {
    const rel = path.relative(path.dirname(opts.file), opts.checkpoint).split(path.sep).join("/");
    (doc.model as Record<string, unknown>).path = rel.startsWith(".") || path.isAbsolute(rel) ? rel : `./${rel}`;
  }
  return JSON.stringify(doc, null, 2) + "\n";
}
