import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { validateConfig as vitConfig, HALF, presetConfig } from "../../../src/core/model/config";
import { tapeFloatsPerImage } from "../../../src/core/memory/activations";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { backboneScalars, targetScalars, trainableScalars, trainPhase, planMemory, chooseMicroBatch, chooseMergeMicroBatch, mergePhase, mergeProblem, PlanConfig, describePlan } from "../../../src/core/memory/plan";
import { memoryLimit, WASM_HEAP_CEILING_BYTES, WASM_PLAN_BYTES } from "../../../src/core/memory/limits";
import { countTrainableParams } from "../../../src/core/train/paramCount";
import { validateConfig } from "../../../src/core/config/validate";

// D 8, depth 1, 2 heads, MLP 16, 8 px / patch 4: T = 4 + 1 = 5 tokens, 2 classes.
const tiny = vitConfig({ imgSize: 8, patchSize: 4, inChans: 3, numClasses: 2, dim: 8, depth: 1, heads: 2, mlpDim: 16, mean: HALF, std: HALF });

function planConfig(over: Partial<PlanConfig> = {}): PlanConfig {
  return {
    method: "lora-at",
    defenses: ["pgd-at"],
    lora: { targets: ["qkv", "fc1"], rank: 2 },
    hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
    attackSteps: 1,
    batchSize: 4,
    microBatchSize: 2,
    evalBatchSize: 4,
    merge: { strategy: "uniform", batchSize: 4 },
    ...over,
  };
}

const limit = (bytes: number) => ({ backend: "test", bytes, source: "test limit" });

describe("memory plan", () => {
  test("shape counts of a tiny ViT, by hand", () => {
    // patch 48·8 + 8, cls 8, pos 5·8, block (norms 2·16, qkv 8·24 + 24, proj 64 + 8, fc1 8·16 + 16, fc2 16·8 + 8), norm 16, head 8·2 + 2
    assert.equal(backboneScalars(tiny), 384 + 8 + 8 + 40 + (32 + 216 + 72 + 144 + 136) + 16 + 18);
    assert.equal(targetScalars(tiny, ["qkv", "fc1"]), 8 * 24 + 8 * 16);
    // lora-at: head 18 + rank 2 · ((8 + 24) + (8 + 16))
    assert.equal(trainableScalars(tiny, planConfig()), 18 + 2 * 32 + 2 * 24);
    // per block 66·T·D + 6·T·M + 5·H·T², plus 22·T·D outside
    assert.equal(tapeFloatsPerImage(tiny), 66 * 5 * 8 + 6 * 5 * 16 + 5 * 2 * 25 + 22 * 5 * 8);
  });

  test("trainable counts agree with src/core/train/paramCount.ts for every method", () => {
    for (const method of ["hyperat", "lora-at", "full-at"] as const) {
      const cfg = validateConfig({ method, defenses: [{ name: "pgd-at" }, { name: "trades" }], lora: { rank: 4, targets: ["qkv", "proj", "fc1", "fc2"] } });
      const vit = presetConfig("vit-micro");
      const pc = planConfig({ method, defenses: cfg.defenses.map((d) => d.name), lora: cfg.lora, hypernet: cfg.hypernet });
      assert.equal(trainableScalars(vit, pc), countTrainableParams(cfg, vit)!.trainable, method);
    }
  });

  test("training step at micro-batch 2 of 4, by hand", () => {
    const p = trainPhase(tiny, planConfig(), 2);
    // The loss pass (LoRA tape 1.4 × 2 images × 4250) beats the attack (2 × 4250 + 320 folded).
    assert.deepEqual(p.breakdown, {
      weights: 4 * 1074,
      frozenCopies: 0,
      trainable: 4 * 130,
      optimizer: 4 * 260,
      gradients: 4 * 130 * 2, // this micro-batch's and the running sum
      activations: 4 * 1.4 * 2 * 4250,
      attackBuffers: 4 * 192 * (2 * 4 + 3 * 2),
    });
    assert.equal(p.bytes, 4296 + 520 + 1040 + 1040 + 47600 + 10752);
    // TRADES runs two forwards in its loss.
    assert.equal(trainPhase(tiny, planConfig({ defenses: ["trades"] }), 2).breakdown.activations, 4 * 1.4 * 2 * 2 * 4250);
  });

  test('"auto" picks the largest micro-batch that fits, and a number is taken as given', () => {
    const c = planConfig({ batchSize: 8, microBatchSize: "auto" });
    const at3 = trainPhase(tiny, c, 3).bytes;
    assert.ok(trainPhase(tiny, c, 4).bytes > at3);
    assert.equal(chooseMicroBatch(tiny, c, limit(at3)), 3);
    assert.equal(chooseMicroBatch(tiny, c, limit(at3 - 1)), 2);
    assert.equal(chooseMicroBatch(tiny, c, limit(1e12)), 8);
    assert.equal(chooseMicroBatch(tiny, { ...c, microBatchSize: 5 }, limit(1)), 5);
    const plan = planMemory(tiny, c, limit(1e12));
    assert.equal(plan.microBatch, 8);
    assert.equal(plan.accumulation, 1);
    assert.equal(planMemory(tiny, c, limit(at3)).accumulation, 3); // 8 images as 3 + 3 + 2
  });

  test("a plan that cannot fit at micro-batch 1 is refused with the estimate and what to change", () => {
    const c = planConfig({ microBatchSize: "auto" });
    const small = Math.min(trainPhase(tiny, c, 1).bytes, trainPhase(tiny, c, 1, true).bytes) - 1;
    const plan = planMemory(tiny, c, limit(small));
    assert.equal(plan.fits, false);
    assert.equal(plan.microBatch, 1);
    assert.match(plan.problems[0], /^train at training\.microBatchSize 1 needs 0\.00 GiB: even one image does not fit .*smaller model, a smaller image size/);
    // A configured micro-batch that is too large is told the one that fits.
    const fixed = planMemory(tiny, planConfig({ microBatchSize: 4, batchSize: 4 }), limit(Math.max(trainPhase(tiny, c, 2).bytes, trainPhase(tiny, c, 2, true).bytes) + 10));
    assert.ok(fixed.problems.some((p) => /set training\.microBatchSize to 2 or less/.test(p)), fixed.problems.join("\n"));
    // Validation and the final evaluation run at the largest batch that fits (results do not
    // depend on it): neither refuses nor warns; the evaluation, without the trainer, fits more.
    const ev = planMemory(tiny, planConfig({ evalBatchSize: 10_000 }), limit(trainPhase(tiny, c, 4).bytes * 2));
    assert.deepEqual(ev.problems, []);
    assert.deepEqual(ev.warnings, []);
    assert.ok(ev.validationBatch > 1 && ev.validationBatch < 10_000, `validation batch ${ev.validationBatch}`);
    assert.ok(ev.evaluationBatch >= ev.validationBatch && ev.evaluationBatch < 10_000, `evaluation batch ${ev.evaluationBatch}`);
    for (const phase of ["validation", "evaluation"]) assert.ok(ev.phases.find((p) => p.phase === phase)!.bytes <= ev.limit.bytes, phase);
    assert.equal(ev.phases.find((p) => p.phase === "evaluation")!.batch, ev.evaluationBatch);
    assert.match(describePlan(ev).join("\n"), /memory plan on test: limit .*\n {2}train \(batch 2\): .* = weights /s);
  });

  test("the adaptive merge plans its λ micro-batch: by hand, the largest that fits, and refused with the fix when one image does not", () => {
    const c = planConfig({ method: "hyperat", defenses: ["pgd-at", "trades", "mart"], merge: { strategy: "adaptive", batchSize: 8 } });
    const mergeAt = (bytes: number) => planMemory(tiny, c, limit(bytes)).phases.find((p) => p.phase === "merge")!;
    const roomy = planMemory(tiny, c, limit(2 ** 30));
    assert.equal(roomy.mergeMicroBatch, 8);
    const m8 = mergeAt(2 ** 30);
    // One merged copy of N_t (no materialized ΔW: the merge keeps the factors) + one module's K + 1
    // terms; the λ backward's dW of every merged weight (N_t); the session's trainer (P, 2P moments)
    // and K adapters' factors, rank 2: (8 + 24) + (8 + 16) per block.
    const Nt = 8 * 24 + 8 * 16;
    const P = trainableScalars(tiny, c);
    assert.equal(m8.breakdown.frozenCopies, 4 * (Nt + 4 * 8 * 24));
    assert.equal(m8.breakdown.gradients, 4 * Nt);
    assert.equal(m8.breakdown.trainable, 4 * (P + 3 * 2 * (32 + 24)));
    assert.equal(m8.breakdown.optimizer, 4 * 2 * P);
    assert.equal(m8.breakdown.activations, 4 * tapeFloatsPerImage(tiny) * 8);
    // Up to 512 held-out images loaded, the λ batch and its adversarial copy, 3 per micro-batch image.
    assert.equal(m8.breakdown.attackBuffers, 4 * 8 * 8 * 3 * (512 + 2 * 8 + 3 * 8));
    // A limit between micro-batches 3 and 4: the plan takes 3, and the merge phase fits.
    const at = (m: number) => m8.bytes - (8 - m) * (4 * tapeFloatsPerImage(tiny) + 4 * 8 * 8 * 3 * 3);
    const between = planMemory(tiny, c, limit(at(4) - 1));
    assert.equal(between.mergeMicroBatch, 3);
    assert.equal(chooseMergeMicroBatch(tiny, c, limit(at(4) - 1)), 3);
    assert.ok(between.phases.find((p) => p.phase === "merge")!.bytes <= at(4) - 1);
    assert.equal(mergeProblem(between), undefined);
    assert.ok(!between.warnings.some((w) => /merge/.test(w)), between.warnings.join("\n"));
    // Below micro-batch 1: a warning at training time, and the reason the merge command refuses.
    const tight = planMemory(tiny, c, limit(at(1) - 1));
    assert.equal(tight.mergeMicroBatch, 1);
    assert.match(mergeProblem(tight)!, /^merge at λ micro-batch 1 needs 0\.00 GiB: even one image does not fit \(0\.00 GiB before any image\), over the limit of 0\.00 GiB \(test limit\); merge with strategy "uniform"/);
    assert.ok(tight.warnings.includes(mergeProblem(tight)!), tight.warnings.join("\n"));
    // Uniform merging has no λ pass: no images, and the configured batch is kept as is.
    const uniform = planMemory(tiny, { ...c, merge: { strategy: "uniform", batchSize: 8 } }, limit(2 ** 30));
    const u = uniform.phases.find((p) => p.phase === "merge")!;
    assert.equal(u.batch, 0);
    // The merged copy and one module's K + 1 terms while it is formed.
    assert.equal(u.breakdown.frozenCopies, 4 * (Nt + 4 * 8 * 24));
  });

  // The adaptive merge of examples/cifar10-vit-b16.hyperat.json (timm ViT-B/16 at 32 px / patch 4,
  // 3 defenses) on wasm, measured by bench/memoryMerge.ts at λ micro-batch m (bench/RESULTS.md,
  // "Adaptive merge memory"): the wasm heap after two λ steps. m 9 is the wasm plan's pick.
  const MEASURED_MERGE_HEAP: Record<number, number> = { 1: 1386872832, 3: 1684668416, 5: 1989279744, 7: 2402156544, 9: 2723282944 };
  test("the flagship ViT-B merge: the estimate at each measured λ micro-batch is at least the measured wasm heap and within 25 % of it, and the wasm pick is one that ran", () => {
    const flagship = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "examples", "cifar10-vit-b16.hyperat.json"), "utf8"));
    const vitB = presetConfig("vit-base", { imgSize: 32, patchSize: 4, numClasses: 10 });
    const c: PlanConfig = {
      method: flagship.method,
      defenses: flagship.defenses.map((d: { name: string }) => d.name),
      lora: flagship.lora,
      hypernet: flagship.hypernet,
      attackSteps: flagship.attack.steps,
      batchSize: flagship.training.batchSize,
      microBatchSize: "auto",
      evalBatchSize: flagship.evaluation.batchSize,
      merge: { strategy: flagship.merge.strategy, batchSize: flagship.merge.batchSize },
    };
    for (const [m, heap] of Object.entries(MEASURED_MERGE_HEAP)) {
      const est = mergePhase(vitB, c, Number(m)).bytes;
      assert.ok(est >= heap, `λ micro-batch ${m}: estimate ${est} B is under the measured heap ${heap} B`);
      // Not padded either: the old estimate ((K + 1)·N_t for K materialized ΔW, which the merge no
      // longer holds) was 1.86 GiB at m 1 against this 1.29 GiB heap (44 % over) and would fail here.
      assert.ok(est <= 1.25 * heap, `λ micro-batch ${m}: estimate ${est} B is over 1.25 × the measured heap ${heap} B`);
    }
    const pick = planMemory(vitB, c, memoryLimit("wasm", { freeBytes: 2 ** 34, totalBytes: 2 ** 34 })).mergeMicroBatch;
    assert.ok(pick in MEASURED_MERGE_HEAP, `the wasm plan picks λ micro-batch ${pick}, which was not measured`);
    assert.ok(MEASURED_MERGE_HEAP[pick] < WASM_HEAP_CEILING_BYTES);
  });

  test("checkpointing is chosen only when it lets a larger micro-batch fit", () => {
    const deep = vitConfig({ ...tiny, depth: 6 });
    const c = planConfig({ batchSize: 64, microBatchSize: "auto" });
    assert.equal(planMemory(deep, c, limit(1e12)).checkpoint, false); // all 64 fit as one pass
    const tight = limit(trainPhase(deep, c, 8).bytes);
    const plan = planMemory(deep, c, tight);
    assert.equal(plan.checkpoint, true);
    assert.ok(plan.microBatch > 8, `micro-batch ${plan.microBatch}`);
    assert.ok(trainPhase(deep, c, 8, true).breakdown.activations < trainPhase(deep, c, 8).breakdown.activations / 2);
  });

  test("limits: wasm keeps room under its 3.9 GiB heap; webgpu caps single tensors", () => {
    assert.equal(memoryLimit("wasm", { freeBytes: 64 * 2 ** 30, totalBytes: 64 * 2 ** 30 }).bytes, WASM_PLAN_BYTES);
    assert.equal(memoryLimit("tensorflow", { freeBytes: 8 * 2 ** 30, totalBytes: 16 * 2 ** 30 }).bytes, 6 * 2 ** 30);
    const gpu = { vendor: "x", architecture: "", device: "", description: "", software: false, maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 };
    const l = memoryLimit({ backend: "webgpu", gpu }, { freeBytes: 2 ** 34, totalBytes: 2 ** 34, gpuMemoryBytes: 10 * 2 ** 30 });
    assert.equal(l.bytes, 9 * 2 ** 30);
    assert.equal(l.maxTensorBytes, 2 ** 27);
    // vit-base's fc1 weight (768·3072·4 B = 9.4 MB) fits 128 MiB; attention scores at a big batch do not.
    const vitB = presetConfig("vit-base");
    const plan = planMemory(vitB, planConfig({ method: "hyperat", microBatchSize: "auto", batchSize: 4096, lora: { targets: ["qkv"], rank: 8 } }), l);
    assert.ok(plan.microBatch < 4096);
    assert.ok(12 * 65 * 65 * 4 * plan.microBatch <= 2 ** 27);
  });
});
