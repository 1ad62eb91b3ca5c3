import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HyperatEngine } from "../../../src/daemon/engine/hyperatEngine";
import { selectBackend } from "../../../src/core/backend/select";
import { RunConfig } from "../../../src/core/config/types";

// A cacheDir that cannot be written let clean pretraining run for minutes and then hang or
// lose its result (issue 15): it must fail before the first pretraining step.
test("an unwritable model.pretrain.cacheDir fails before pretraining starts", async () => {
  await selectBackend("wasm");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-cache-"));
  try {
    const configPath = path.join(dir, "c.hyperat.json");
    for (const cacheDir of ["/proc", "/proc/hyperat-cache/sub"]) {
      fs.writeFileSync(
        configPath,
        JSON.stringify({
          name: "c",
          backend: "wasm",
          model: { preset: "vit-micro", imgSize: 32, patchSize: 16, pretrain: { steps: 1000000, batchSize: 8, cacheDir } },
          data: { train: "synthetic:shapes10?n=16&seed=1", val: "synthetic:shapes10?n=8&seed=2", test: "synthetic:shapes10?n=8&seed=3" },
          training: { steps: 1, batchSize: 8 },
        }),
      );
      const engine = new HyperatEngine();
      // The up-front pass refuses it before a run folder exists (src/daemon/preflight.ts) ...
      await assert.rejects(engine.loadConfig(configPath), (e: Error & { jsonPath?: string }) => e.jsonPath === "/model/pretrain/cacheDir" && e.message.includes(configPath));
      // ... and preparation itself still refuses it (a frozen config of an older run skips the pass).
      fs.writeFileSync(configPath, fs.readFileSync(configPath, "utf8").replace(JSON.stringify(cacheDir), JSON.stringify(path.join(dir, "cache"))));
      const rc = await engine.loadConfig(configPath);
      (rc.raw as RunConfig).model.pretrain!.cacheDir = cacheDir;
      let steps = 0;
      await assert.rejects(
        engine.prepare(rc.raw as RunConfig, () => steps++),
        new RegExp(`model\\.pretrain\\.cacheDir ${cacheDir.replace(/\//g, "\\/")} is not a writable folder`),
      );
      assert.equal(steps, 0, "no pretraining step ran");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
