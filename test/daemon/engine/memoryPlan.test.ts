import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { tempWorkspace } from "../helpers";
import { writeSparseTimmVit } from "./timmHeaderFile";
import { HyperatEngine } from "../../../src/daemon/engine/hyperatEngine";
import { RunManager } from "../../../src/daemon/runManager";
import { runsDirOf } from "../../../src/daemon/runStore";
import { vitOfConfig } from "../../../src/daemon/engine/memoryPlan";
import { validateConfig } from "../../../src/core/config/validate";
import { WASM_PLAN_BYTES } from "../../../src/core/memory/limits";

/** The flagship ViT-B/16 config (examples/cifar10-vit-b16.hyperat.json) on wasm, on synthetic data. */
function vitBConfig(dir: string, model: string, over: { imgSize?: number; batchSize?: number; microBatchSize?: number | "auto"; mergeBatchSize?: number } = {}): string {
  const file = path.join(dir, `vitb-${over.imgSize ?? 32}-${over.microBatchSize ?? "auto"}-${over.mergeBatchSize ?? 2}.hyperat.json`);
  fs.writeFileSync(file, JSON.stringify({
    name: "vit-b16",
    backend: "wasm",
    method: "hyperat",
    model: { path: model, imgSize: over.imgSize ?? 32, patchSize: 4, numClasses: 10 },
    data: { train: "synthetic:shapes10?n=32&seed=1", val: "synthetic:shapes10?n=8&seed=2", test: "synthetic:shapes10?n=8&seed=3" },
    defenses: [{ name: "pgd-at" }, { name: "trades", beta: 6 }, { name: "mart", beta: 6 }],
    lora: { targets: ["qkv", "proj", "fc1", "fc2"], rank: 8, alpha: 16 },
    hypernet: { embedDim: 64, hiddenDim: 256, latentDim: 64 },
    attack: { eps: "8/255", stepSize: "2/255", steps: 10 },
    training: { steps: 10, batchSize: over.batchSize ?? 128, microBatchSize: over.microBatchSize ?? "auto" },
    merge: { strategy: "adaptive", batchSize: over.mergeBatchSize ?? 2 },
    evaluation: { attacks: "quick", n: 8, batchSize: 2 },
  }));
  return file;
}

describe("memory plan of a ViT-B/16 checkpoint (header only, no weights read)", () => {
  const ws = tempWorkspace("hyperat-memplan-");
  const model = path.join(ws, "vit_base_patch16_224.safetensors");
  const dataBytes = writeSparseTimmVit(model, "vit-base");
  const engine = new HyperatEngine();

  test("the header gives the adapted architecture", async () => {
    assert.equal(dataBytes, 4 * 86_567_656); // timm's vit_base_patch16_224 parameter count
    const vit = await vitOfConfig(validateConfig({ model: { path: model, imgSize: 32, patchSize: 4, numClasses: 10 } }));
    assert.deepEqual({ dim: vit.dim, depth: vit.depth, heads: vit.heads, mlpDim: vit.mlpDim, imgSize: vit.imgSize, patchSize: vit.patchSize, numClasses: vit.numClasses }, { dim: 768, depth: 12, heads: 12, mlpDim: 3072, imgSize: 32, patchSize: 4, numClasses: 10 });
  });

  test("batch 128 at 32 px fits on wasm at the plan's micro-batch", async () => {
    const est = await engine.estimateMemory(await engine.loadConfig(vitBConfig(ws, model)));
    assert.equal(est.fits, true, est.detail);
    assert.equal(est.limitBytes, WASM_PLAN_BYTES);
    assert.ok(est.bytes <= est.limitBytes);
    // issue 11's target: micro-batch ≥ 32 (activation checkpointing on, 4 micro-batches a step).
    assert.ok(est.microBatch! >= 32 && est.microBatch! < 128, `micro-batch ${est.microBatch}`);
    assert.match(est.lines![0], /activation checkpointing/);
    assert.match(est.lines!.join("\n"), new RegExp(`micro-batch ${est.microBatch} × ${Math.ceil(128 / est.microBatch!)}`));
    // A micro-batch twice the chosen one does not fit: "auto" took the largest.
    const over = await engine.estimateMemory(await engine.loadConfig(vitBConfig(ws, model, { microBatchSize: 2 * est.microBatch! })));
    assert.equal(over.fits, false);
    assert.match(over.detail, new RegExp(`set training\\.microBatchSize to ${est.microBatch} or less`));
  });

  test("the flagship's adaptive merge at merge.batchSize 128 runs at a planned λ micro-batch that fits: no merge warning", async () => {
    const est = await engine.estimateMemory(await engine.loadConfig(vitBConfig(ws, model, { mergeBatchSize: 128 })));
    const lines = est.lines!.join("\n");
    const merge = /\n {2}merge \(batch (\d+)\): (\d+\.\d\d) GiB/.exec(lines);
    assert.ok(merge, lines);
    const micro = Number(merge[1]);
    assert.ok(micro >= 1 && micro < 128, `merge micro-batch ${micro}`);
    assert.ok(Number(merge[2]) * 2 ** 30 <= WASM_PLAN_BYTES + 0.005 * 2 ** 30, lines);
    assert.doesNotMatch(lines, /warning: merge/);
  });

  test("a ViT-L/16 header plans micro-batch ≥ 8 on wasm", async () => {
    const large = path.join(ws, "vit_large_patch16_224.safetensors");
    writeSparseTimmVit(large, "vit-large");
    const est = await engine.estimateMemory(await engine.loadConfig(vitBConfig(ws, large)));
    assert.equal(est.fits, true, est.detail);
    assert.ok(est.microBatch! >= 8, `micro-batch ${est.microBatch}`);
  });

  test("at 384 px it cannot fit even at micro-batch 1: start refuses before the run folder exists", async () => {
    const manager = new RunManager({ runsDir: runsDirOf(ws), engineModule: undefined, useWorkers: false });
    try {
      await assert.rejects(manager.start(vitBConfig(ws, model, { imgSize: 384 })), (e: Error) => {
        assert.equal(e.name, "MemoryLimitError");
        assert.match(e.message, /^estimated peak memory \d+\.\d\d GiB is over the limit of 3\.20 GiB \(train at training\.microBatchSize 1 needs \d+\.\d\d GiB: even one image does not fit .*use a smaller model, a smaller image size/);
        return true;
      });
      assert.equal(fs.existsSync(runsDirOf(ws)) ? fs.readdirSync(runsDirOf(ws)).length : 0, 0);
    } finally {
      await manager.shutdown();
    }
  });
});

describe("a session trains at the plan's micro-batch", () => {
  test("training.microBatchSize 2 of batch 4: the session's micro-batch, one step, finite loss", async () => {
    const ws = tempWorkspace("hyperat-memplan-session-");
    const file = path.join(ws, "tiny.hyperat.json");
    fs.writeFileSync(file, JSON.stringify({
      name: "tiny",
      backend: "wasm",
      model: { preset: "vit-micro", patchSize: 8 },
      data: { train: "synthetic:shapes10?n=16&seed=1", val: "synthetic:shapes10?n=4&seed=2", test: "synthetic:shapes10?n=4&seed=3" },
      defenses: [{ name: "trades" }],
      lora: { rank: 2, alpha: 4 },
      hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
      attack: { eps: "8/255", stepSize: "4/255", steps: 1 },
      training: { steps: 2, batchSize: 4, microBatchSize: 2, validateEvery: 0, validationN: 4 },
    }));
    const engine = new HyperatEngine();
    const rc = await engine.loadConfig(file);
    const est = await engine.estimateMemory(rc);
    assert.equal(est.microBatch, 2);
    const runDir = path.join(ws, "run");
    fs.mkdirSync(runDir);
    const session = (await engine.openSession(runDir, rc, false)) as unknown as { microBatch: number; runStep(emit: (e: unknown) => void): Promise<void>; dispose(): void };
    try {
      assert.equal(session.microBatch, 2);
      const events: Array<{ kind: string; loss?: number }> = [];
      await session.runStep((e) => events.push(e as { kind: string; loss?: number }));
      const step = events.find((e) => e.kind === "step");
      assert.ok(step && Number.isFinite(step.loss), JSON.stringify(events));
    } finally {
      session.dispose();
    }
  });
});
