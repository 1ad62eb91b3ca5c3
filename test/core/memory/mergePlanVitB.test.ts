// The merge estimate against what bench/memoryMerge.ts measured for the flagship ViT-B/16 config
// on wasm (docs/memory.md, "Merging"): a plan below the heap it measured would let the λ pass
// run into `memory access out of bounds`, as the old estimate (K materialized ΔW) did at m 5 and 7.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { presetConfig } from "../../../src/core/model/config";
import { validateConfig } from "../../../src/core/config/validate";
import { chooseMergeMicroBatch, mergePhase } from "../../../src/core/memory/plan";
import { memoryLimit } from "../../../src/core/memory/limits";
import { planConfigOf } from "../../../src/daemon/engine/memoryPlan";
import type { RunConfig } from "../../../src/core/config/types";

const GiB = 2 ** 30;

test("flagship ViT-B/16 merge: the plan's pick ran on wasm, and its estimate is at or above the measured heap where it matters", () => {
  const raw = JSON.parse(fs.readFileSync(path.join(__dirname, "../../../examples/cifar10-vit-b16.hyperat.json"), "utf8"));
  delete raw.$schema;
  const cfg = validateConfig({ ...raw, model: { preset: "vit-base", imgSize: 32, patchSize: 4, numClasses: 10 } }) as RunConfig;
  const vit = presetConfig("vit-base", { imgSize: 32, patchSize: 4, numClasses: 10 });
  const c = planConfigOf(cfg);
  const wasm = memoryLimit("wasm", { freeBytes: 64 * GiB, totalBytes: 64 * GiB });
  // Measured (wasm heap high-water mark, 2 cores / 24 GiB): m 7 2.24 GiB, m 10 2.72 GiB over 3 λ steps.
  assert.equal(chooseMergeMicroBatch(vit, c, wasm), 10, "the plan picks the micro-batch that was measured to run");
  assert.ok(mergePhase(vit, c, 10).bytes >= 2.72 * GiB, `m 10: ${mergePhase(vit, c, 10).bytes / GiB} GiB`);
  assert.ok(mergePhase(vit, c, 7).bytes >= 2.24 * GiB, `m 7: ${mergePhase(vit, c, 7).bytes / GiB} GiB`);
  // And it is the largest: m 11 is over the limit.
  assert.ok(mergePhase(vit, c, 11).bytes > wasm.bytes);
});
