import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateConfig } from "../../../src/core/config/validate";
import { ConfigError } from "../../../src/core/config/configError";
import { loadConfigFile } from "../../../src/daemon/engine/configFile";

const COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

test("model.path hf:<id> is pinned to the cached commit in the resolved config; an uncached id is a ConfigError at /model/path with the command", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-hfcfg-"));
  const saved = process.env.HF_HUB_CACHE;
  try {
    const snap = path.join(dir, "hub", "models--timm--vit_tiny", "snapshots", COMMIT);
    fs.mkdirSync(snap, { recursive: true });
    fs.mkdirSync(path.join(dir, "hub", "models--timm--vit_tiny", "refs"));
    fs.writeFileSync(path.join(dir, "hub", "models--timm--vit_tiny", "refs", "main"), COMMIT);
    // A real ViT file: the up-front pass reads the model's header (src/daemon/preflight.ts).
    fs.copyFileSync(path.join(__dirname, "../../fixtures/timm-vit/model.safetensors"), path.join(snap, "model.safetensors"));
    process.env.HF_HUB_CACHE = path.join(dir, "hub");
    const file = path.join(dir, "x.hyperat.json");
    fs.writeFileSync(file, JSON.stringify({ model: { path: "hf:timm/vit_tiny" } }));
    assert.equal((await loadConfigFile(file)).model.path, `hf:timm/vit_tiny@${COMMIT}`);
    assert.throws(() => validateConfig({ model: { path: "hf:timm/a/b" } }), (e: ConfigError) => e.jsonPath === "/model/path" && /is not a Hub repo id/.test(e.message));
    fs.writeFileSync(file, JSON.stringify({ model: { path: "hf:timm/vit_missing@v1" } }));
    await assert.rejects(loadConfigFile(file), (e: ConfigError) => {
      assert.ok(e instanceof ConfigError && e.jsonPath === "/model/path", String(e));
      assert.ok(e.message.startsWith(file) && e.message.includes("huggingface-cli download timm/vit_missing model.safetensors config.json --revision v1"), e.message);
      return true;
    });
  } finally {
    if (saved === undefined) delete process.env.HF_HUB_CACHE;
    else process.env.HF_HUB_CACHE = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
