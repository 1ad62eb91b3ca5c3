// `hyperat check CONFIG` end to end: the report of a valid config (hand-computed counts), and
// for an invalid one the same error `train` gives, exit 1, and no run folder.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { encodeCifar10 } from "../../../src/core/data/cifar";
import { shapes10 } from "../../../src/core/data/synthetic";
import { tinyTimmModel } from "../../fuzz/modelFixture";

const ROOT = path.resolve(__dirname, "../../..");

function hyperat(args: string[], cwd: string) {
  const tsx = require.resolve("tsx", { paths: [ROOT] });
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(tsx).href, path.join(ROOT, "src/cli/main.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, HYPERAT_QUIET_BACKEND: "1" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hyperat check", () => {
  let dir: string;
  const config = (name: string, over: Record<string, unknown> = {}) => {
    const file = path.join(dir, `${name}.hyperat.json`);
    const base = {
      name,
      backend: "cpu",
      model: { path: "tiny.safetensors" },
      data: { train: "synthetic:shapes10?n=40&seed=1", val: { from: "train", n: 8 }, test: "test_batch.bin" },
      lora: { targets: ["qkv", "fc1"], rank: 4, alpha: 8 },
      training: { steps: 12, batchSize: 8, validationAttack: "pgd-3" },
      evaluation: { attacks: "quick", n: 20 },
    };
    fs.writeFileSync(file, "\ufeff" + JSON.stringify({ ...base, ...over }, null, 2)); // with a BOM, as some editors write
    return file;
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-check-"));
    fs.writeFileSync(path.join(dir, "tiny.safetensors"), tinyTimmModel({ dim: 16, depth: 2, mlpDim: 32, patch: 4, grid: 8, classes: 10 }));
    fs.writeFileSync(path.join(dir, "test_batch.bin"), encodeCifar10(shapes10({ n: 6, seed: 9, split: "test" })));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a valid config: data counts, model widths, backend, memory and steps, as text and JSON", () => {
    config("ok");
    const json = hyperat(["check", "ok.hyperat.json", "--json"], dir);
    assert.equal(json.code, 0, json.stderr);
    const r = JSON.parse(json.stdout);
    assert.equal(r.ok, true);
    assert.deepEqual([r.data.train.samples, r.data.val.samples, r.data.test.samples], [32, 8, 6]);
    assert.equal(r.data.test.kind, "cifar10");
    assert.deepEqual([r.model.source, r.model.dim, r.model.depth, r.model.mlpDim], ["file", 16, 2, 32]);
    assert.deepEqual(r.backend, { requested: "cpu", selected: "cpu" });
    assert.equal(r.steps.training, 12);
    assert.equal(r.steps.epochs, (12 * 8) / 32);
    assert.deepEqual(r.attacks.validation, ["pgd-3"]);
    assert.equal(r.memory.fits, true);
    assert.ok(r.memory.limitBytes > 0);
    assert.equal(fs.existsSync(path.join(dir, ".hyperat", "runs")), false, "check creates no run folder");

    const text = hyperat(["check", "ok.hyperat.json"], dir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^steps:\s+12 at batch 8 \(3\.00 epochs\)$/m);
    assert.match(text.stdout, /^test:\s+6 samples \(cifar10, /m);
  });

  test("an invalid config fails with the error train gives, and neither leaves a run folder", () => {
    config("bad", { training: { steps: 12, validationAttack: "pgd-abc" } });
    const check = hyperat(["check", "bad.hyperat.json"], dir);
    const train = hyperat(["train", "bad.hyperat.json"], dir);
    assert.equal(check.code, 1);
    assert.equal(train.code, 1);
    const line = check.stderr.trim().split("\n").pop()!;
    assert.match(line, /^hyperat: .*bad\.hyperat\.json: \/training\/validationAttack: attacks: unknown attack "pgd-abc"/);
    assert.equal(train.stderr.trim().split("\n").pop(), line);
    const runs = path.join(dir, ".hyperat", "runs");
    assert.deepEqual(fs.existsSync(runs) ? fs.readdirSync(runs) : [], []);

    const json = hyperat(["check", "bad.hyperat.json", "--json"], dir);
    assert.equal(json.code, 1);
    const r = JSON.parse(json.stdout);
    assert.equal(r.ok, false);
    assert.equal(r.error.name, "ConfigError");
    assert.equal(r.error.jsonPath, "/training/validationAttack");
  });

  test("a batch the memory plan cannot fit is refused with the estimate", () => {
    config("huge", { model: { preset: "vit-micro" }, training: { steps: 1, batchSize: 1000000, validationAttack: "pgd-3" } });
    const r = hyperat(["check", "huge.hyperat.json"], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /estimated peak memory .* GiB is over the limit/);
  });
});
