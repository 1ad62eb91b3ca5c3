// Export… without vscode (src/extension/modelExport.ts): layouts from the run folder as it is,
// byte-identical copies, and never a half-written or silently replaced destination.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { exportChoices, exportFolderName, exportModelFiles, nothingToExport } from "../../src/extension/modelExport";

function runFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-export-"));
  const put = (rel: string, data: string | Buffer) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  put("merged/uniform/model.safetensors", Buffer.from([0, 1, 2, 255, 254, 10, 13]));
  put("merged/uniform/config.json", "{\"architecture\": \"vit_micro\"}\n");
  put("merged/uniform/README.md", "# card\n");
  put("merged/uniform/merge.json", "{}\n");
  put("merged/uniform/.model.safetensors.123.ab.tmp", "half"); // an atomic write in progress
  put("merged/model-adaptive.safetensors", Buffer.from([9, 9, 9]));
  put("adapters/pgd-at/adapter_model.safetensors", Buffer.from([7, 0, 7]));
  put("adapters/pgd-at/adapter_config.json", "{\"peft_type\": \"LORA\"}\n");
  return dir;
}

const names = (files: Array<{ to: string }>) => files.map((f) => f.to);

test("layouts: a merge folder is a timm dir or its weights; an older flat merge only weights; an adapter PEFT; the base none", async () => {
  const dir = runFolder();
  const merged = await exportChoices(dir, { kind: "merged", strategy: "uniform" });
  assert.deepEqual(merged.map((c) => [c.layout.id, names(c.files)]), [
    ["timm", ["config.json", "merge.json", "model.safetensors", "README.md"]],
    ["weights", ["model.safetensors"]],
  ]);
  const legacy = await exportChoices(dir, { kind: "merged", strategy: "adaptive" });
  assert.deepEqual(legacy.map((c) => [c.layout.id, names(c.files)]), [["weights", ["model.safetensors"]]]);
  assert.equal(legacy[0].files[0].from, path.join(dir, "merged/model-adaptive.safetensors"));
  const adapter = await exportChoices(dir, { kind: "adapter", defense: "pgd-at" });
  assert.deepEqual(adapter.map((c) => [c.layout.id, names(c.files)]), [["peft", ["adapter_config.json", "adapter_model.safetensors"]]]);
  assert.deepEqual(await exportChoices(dir, { kind: "adapter", defense: "trades" }), []);
  assert.deepEqual(await exportChoices(dir, { kind: "base" }), []);
  assert.match(nothingToExport({ kind: "base" }), /not a file of the run/);
  assert.equal(exportFolderName("my run/1", { kind: "merged", strategy: "uniform" }), "my-run-1-merged-uniform");
});

test("round trip: every exported file is byte-identical to its source, and no temp folder is left", async () => {
  const dir = runFolder();
  const [timm] = await exportChoices(dir, { kind: "merged", strategy: "uniform" });
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-dest-"));
  const dest = path.join(parent, "demo-merged-uniform");
  assert.deepEqual(await exportModelFiles(timm.files, dest), ["config.json", "merge.json", "model.safetensors", "README.md"]);
  assert.deepEqual(fs.readdirSync(dest).sort(), ["README.md", "config.json", "merge.json", "model.safetensors"]);
  for (const f of timm.files) assert.deepEqual(fs.readFileSync(path.join(dest, f.to)), fs.readFileSync(f.from), f.to);
  assert.deepEqual(fs.readdirSync(parent), ["demo-merged-uniform"]);
});

test("an existing non-empty destination is refused and left as it was; replace swaps it whole; an empty one is used", async () => {
  const dir = runFolder();
  const [peft] = await exportChoices(dir, { kind: "adapter", defense: "pgd-at" });
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-dest-"));
  const dest = path.join(parent, "x");
  fs.mkdirSync(dest);
  fs.writeFileSync(path.join(dest, "mine.txt"), "keep me");
  await assert.rejects(exportModelFiles(peft.files, dest), (e: Error) => e.message.includes(dest) && /not empty/.test(e.message));
  assert.deepEqual(fs.readdirSync(dest), ["mine.txt"]);
  assert.deepEqual(fs.readdirSync(parent), ["x"], "no temp folder left");
  await exportModelFiles(peft.files, dest, { replace: true });
  assert.deepEqual(fs.readdirSync(dest).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
  assert.deepEqual(fs.readdirSync(parent), ["x"], "the old folder is gone, no temp left");
  const empty = path.join(parent, "empty");
  fs.mkdirSync(empty);
  await exportModelFiles(peft.files, empty);
  assert.deepEqual(fs.readdirSync(empty).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
});

test("a copy that fails half-way leaves neither the destination nor a temp folder", async () => {
  const dir = runFolder();
  const [timm] = await exportChoices(dir, { kind: "merged", strategy: "uniform" });
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-dest-"));
  const files = [...timm.files, { from: path.join(dir, "merged/uniform/gone.bin"), to: "gone.bin" }];
  await assert.rejects(exportModelFiles(files, path.join(parent, "d")), (e: NodeJS.ErrnoException) => e.code === "ENOENT");
  assert.deepEqual(fs.readdirSync(parent), []);
  // And a failed replace keeps the old folder.
  const keep = path.join(parent, "keep");
  fs.mkdirSync(keep);
  fs.writeFileSync(path.join(keep, "old.txt"), "old");
  await assert.rejects(exportModelFiles(files, keep, { replace: true }));
  assert.deepEqual(fs.readdirSync(parent), ["keep"]);
  assert.equal(fs.readFileSync(path.join(keep, "old.txt"), "utf8"), "old");
});
