import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseConfigText } from "../src/core/config/validate";

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
}
