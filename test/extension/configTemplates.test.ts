import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { validateConfig } from "../../src/core/config/validate";
import { CONFIG_TEMPLATES, configFilePath, configName, renderTemplate } from "../../src/extension/configTemplates";

const ws = path.join(path.sep, "home", "u", "project");

test("every template renders to a schema-valid config with the chosen name and no dangling $schema", () => {
  assert.deepEqual(CONFIG_TEMPLATES.map((t) => t.id), ["demo", "cifar10-vit", "lora-at", "full-at"]);
  for (const t of CONFIG_TEMPLATES) {
    const text = renderTemplate(t, { name: `my ${t.id}`, file: path.join(ws, "configs", `x.hyperat.json`), checkpoint: path.join(ws, "models", "vit.safetensors") });
    assert.ok(text.endsWith("}\n"));
    const doc = JSON.parse(text) as Record<string, unknown>;
    assert.equal(doc.$schema, undefined, t.id);
    assert.equal(doc.name, `my-${t.id}`);
    const cfg = validateConfig(doc, t.id);
    assert.equal(cfg.name, `my-${t.id}`);
  }
});

test("the CIFAR-10 template points model.path at the checkpoint, relative to the config's folder", () => {
  const t = CONFIG_TEMPLATES.find((x) => x.id === "cifar10-vit")!;
  const at = (file: string, ck: string) => (JSON.parse(renderTemplate(t, { file, checkpoint: ck })) as { model: { path: string } }).model.path;
  assert.equal(at(path.join(ws, "configs", "a.hyperat.json"), path.join(ws, "models", "vit.safetensors")), "../models/vit.safetensors");
  assert.equal(at(path.join(ws, "a.hyperat.json"), path.join(ws, "models", "vit.safetensors")), "./models/vit.safetensors");
  // Without a checkpoint the example's placeholder stays (the start then names the missing file).
  assert.match((JSON.parse(renderTemplate(t, { file: path.join(ws, "a.hyperat.json") })) as { model: { path: string } }).model.path, /^\.\/models\//);
  // The templates are copies: rendering does not change the shared example object.
  assert.equal((t.base as { $schema?: string }).$schema, "../schemas/hyperat.schema.json");
});

test("configName turns a typed name or file name into a schema-safe run name", () => {
  assert.equal(configName("My Run #1.hyperat.json"), "My-Run-1");
  assert.equal(configName("..."), "run");
  assert.equal(configName("cifar10_vit-b16"), "cifar10_vit-b16");
});

test("configFilePath keeps one .hyperat.json suffix whatever the save dialog returned", () => {
  // VS Code's own save dialog appended the filter's extension to a name that already had it.
  assert.equal(configFilePath("/ws/demo.hyperat.json.hyperat.json"), "/ws/demo.hyperat.json");
  assert.equal(configFilePath("/ws/demo.hyperat.json"), "/ws/demo.hyperat.json");
  assert.equal(configFilePath("/ws/run.json"), "/ws/run.hyperat.json");
  assert.equal(configFilePath("/ws/run"), "/ws/run.hyperat.json");
  assert.equal(configFilePath("/ws/run.HYPERAT.JSON"), "/ws/run.hyperat.json");
  // Other dots are part of the name.
  assert.equal(configFilePath("/ws/v1.2.hyperat.json"), "/ws/v1.2.hyperat.json");
  assert.equal(configFilePath("/my.dir/eps8"), "/my.dir/eps8.hyperat.json");
});
