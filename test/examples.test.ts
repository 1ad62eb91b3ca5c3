import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseConfigText } from "../src/core/config/validate";
import { checkDataSpec } from "../src/core/data/spec";
import { checkDisjointSplits } from "../src/core/data/overlap";
import { isHeldOut } from "../src/core/data/heldOut";

// The shipped configs must stay valid as the schema evolves: users start from them.
const dir = path.join(__dirname, "..", "examples");
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".hyperat.json"));

test("there are example configs (demo, CIFAR-10 ViT-B/16, baselines)", () => {
  for (const f of ["demo.hyperat.json", "cifar10-vit-b16.hyperat.json", "baseline-lora-at.hyperat.json", "baseline-full-at.hyperat.json"]) assert.ok(files.includes(f), f);
});

for (const f of files) {
  test(`examples/${f} validates against the schema`, () => {
    const cfg = parseConfigText(fs.readFileSync(path.join(dir, f), "utf8"), f);
    assert.ok(cfg.training.steps > 0);
    assert.ok(cfg.defenses.length >= 1);
  });

  // The schema only says "a string": the spec parser and the overlap check say whether it loads
  // (issue 12: the flagship's ?offset= was rejected at its first data load).
  test(`examples/${f}: data specs parse, splits are disjoint, model path resolves inside examples/`, () => {
    const cfg = parseConfigText(fs.readFileSync(path.join(dir, f), "utf8"), f);
    checkDataSpec(cfg.data.train, "train");
    if (!isHeldOut(cfg.data.val)) checkDataSpec(cfg.data.val, "test");
    checkDataSpec(cfg.data.test, "test");
    checkDisjointSplits(cfg.data, dir);
    if (cfg.model.path) {
      const abs = path.resolve(dir, cfg.model.path);
      assert.ok(abs.startsWith(path.join(dir, "models") + path.sep), `${cfg.model.path} resolves to ${abs}, where README's download step puts it`);
      assert.match(abs, /\.safetensors$/);
    }
  });
}
