import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { registerSynth } from "../../../src/cli/verbs/synth";
import { loadDataSpec } from "../../../src/core/data/spec";
import { shapes10 } from "../../../src/core/data/synthetic";

function program(): Command {
  const p = new Command().exitOverride();
  registerSynth(p);
  return p;
}

describe("hyperat synth", () => {
  test("writes shapes10 as CIFAR-10 binary that reads back as the same samples", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-synth-"));
    const log = console.log;
    console.log = () => undefined;
    try {
      await program().parseAsync(["node", "hyperat", "synth", "--out", out, "--n", "20", "--test-n", "10", "--seed", "7"]);
    } finally {
      console.log = log;
    }
    assert.deepEqual(fs.readdirSync(out).sort(), ["batches.meta.txt", "data_batch_1.bin", "test_batch.bin"]);
    const train = await loadDataSpec(out);
    const test = await loadDataSpec(out, { split: "test" });
    assert.equal(train.n, 20);
    assert.equal(test.n, 10);
    assert.deepEqual(train.labels, shapes10({ n: 20, seed: 7 }).labels);
    assert.deepEqual(test.labels, shapes10({ n: 10, seed: 7, split: "test" }).labels);
    assert.equal(train.classNames[0], "circle");
    fs.rmSync(out, { recursive: true });
  });

  test("a bad count is a named error", async () => {
    await assert.rejects(program().parseAsync(["node", "hyperat", "synth", "--out", "/tmp/x", "--n", "ten"]), /--n: expected a non-negative integer, got "ten"/);
  });
});
