import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { validateConfig, HALF } from "../../src/core/model/config";
import { stepFlops } from "../../src/bench/flops";
import { suiteMarkdown, writeSection, SuiteEntry } from "../../src/bench/resultsFile";
import { benchShape } from "../../src/cli/verbs/bench";
import { benchConfig, BenchResult } from "../../src/bench/runBench";

describe("bench", () => {
  test("FLOP counts match a hand count for a one-block ViT", () => {
    // img 4, patch 2 → 4 patches, T = 5; D = 4, H = 2 (Dh 2), MLP 8, 3 classes, batch 1.
    const c = validateConfig({ imgSize: 4, patchSize: 2, inChans: 3, numClasses: 3, dim: 4, depth: 1, heads: 2, mlpDim: 8, mean: HALF, std: HALF });
    const patch = 2 * 4 * 12 * 4; // 4 patches × (3·2·2) × D
    const head = 2 * 4 * 3;
    const lin = 2 * 5 * (4 * 12 + 4 * 4 + 4 * 8 + 8 * 4); // qkv, proj, fc1, fc2 over 5 tokens
    const attn = 2 * (2 * 2 * 5 * 5 * 2); // QKᵀ and PV, 2 heads
    const f = stepFlops(c, 1, 3, 1);
    assert.equal(f.forward, patch + head + lin + attn);
    assert.equal(f.trainStep, f.forward + 2 * (patch + head + lin) + 2 * attn);
    // PGD-3: three forward + input-gradient passes, then one train step.
    assert.equal(f.advStep, 3 * (f.forward + patch + head + lin + 2 * attn) + f.trainStep);
    assert.ok(f.hyperatStep === f.loraAtStep && f.loraAtStep > 3 * f.forward);
  });

  test("bench configs are the ones a user writes: schema defaults, the method's defenses, a clean step without attack iterations", () => {
    const hyper = benchConfig("hyperat", 10, 32, 2);
    assert.deepEqual(hyper.defenses.map((d) => d.name), ["pgd-at", "trades", "mart"]);
    assert.deepEqual([hyper.attack.eps, hyper.attack.stepSize, hyper.attack.steps], ["8/255", "2/255", 10]);
    assert.deepEqual([hyper.lora.rank, hyper.lora.alpha, hyper.training.batchSize, hyper.training.microBatchSize, hyper.training.workers], [8, 16, 32, 32, 2]);
    assert.deepEqual(benchConfig("lora-at", 10, 32, 1).defenses.map((d) => d.name), ["pgd-at"]);
    const clean = benchConfig("full-at", 0, 32, 1);
    assert.deepEqual([clean.method, clean.attack.steps], ["full-at", 0]);
  });

  test("bench shape: preset, flag overrides, MLP default 4 × dim, bad flags named", () => {
    const micro = benchShape({ preset: "vit-micro" });
    assert.deepEqual([micro.dim, micro.depth, micro.heads, micro.patchSize], [64, 4, 4, 8]);
    const d6 = benchShape({ preset: "vit-tiny", dim: "192", depth: "6", heads: "3", img: "32", patch: "4" });
    assert.deepEqual([d6.dim, d6.depth, d6.heads, d6.mlpDim, d6.patchSize], [192, 6, 3, 768, 4]);
    assert.throws(() => benchShape({ preset: "vit-micro", depth: "0" }), /--depth: expected an integer ≥ 1, got "0"/);
    assert.throws(() => benchShape({ preset: "vit-micro", dim: "60", heads: "7" }), /not divisible by heads/);
  });

  test("results section is appended once, then replaced in place; the rest of the file is kept", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-bench-"));
    const file = path.join(dir, "RESULTS.md");
    fs.writeFileSync(file, "# Benchmark results\n\nhand-written notes\n");
    const run = (ms: number): BenchResult => ({
      trainStepMs: ms, advStepMs: 10 * ms, hyperatStepMs: 11 * ms, loraAtStepMs: 10 * ms, imagesPerSecond: 3.2, peakRssBytes: 2 ** 30,
      backend: "wasm", workers: 2, cpuMs: { trainStep: ms, advStep: ms, loraAtStep: ms, hyperatStep: ms },
      gflops: { trainStep: 1, advStep: 2, loraAtStep: 3, hyperatStep: 4 },
      flops: { forward: 1, trainStep: 1, advStep: 1, loraAtStep: 1, hyperatStep: 1 },
    });
    const entry = (ms: number): SuiteEntry => ({
      name: "vit-micro", shape: "depth 4", batch: 32, pgdSteps: 10, runs: [run(ms)],
      pytorch: { ok: true, python: "python3", result: { ...run(ms / 2), backend: "pytorch-cpu" } },
    });
    const m = { cpuModel: "Test CPU", cores: 2, memoryGiB: 8, loadAverage: 0.5, node: "v20", tfjs: "4.22.0", platform: "linux x64", matMul: "native BLAS: openblas (libopenblas.so.0)" };
    writeSection(file, suiteMarkdown([entry(100)], m, "hyperat bench --suite default", new Date(0)));
    writeSection(file, suiteMarkdown([entry(200)], m, "hyperat bench --suite default", new Date(0)));
    const text = fs.readFileSync(file, "utf8");
    assert.equal(text.split("hyperat-bench:start").length, 2, "exactly one tool section");
    assert.ok(text.includes("hand-written notes"));
    assert.ok(text.includes("matMul on native BLAS: openblas"), "which matMul engine ran is recorded");
    assert.ok(text.includes("| 2000 (2) |"), "the second run's adversarial step (wasm ms (GFLOP/s))");
    assert.ok(text.includes("2.00×"), "ratio to PyTorch");
    assert.ok(!text.includes("| 1000 (2) |"), "the first run was replaced");
    fs.rmSync(dir, { recursive: true });
  });
});
