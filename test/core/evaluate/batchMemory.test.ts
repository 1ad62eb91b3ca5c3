import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { attackBatchBytes, maxAttackBatch, checkAttackBatch, backendMemoryLimit, WASM_HEAP_LIMIT_BYTES } from "../../../src/core/evaluate/batchMemory";
import { presetConfig } from "../../../src/core/model/config";

describe("attack batch memory", () => {
  const vit = presetConfig("vit-micro", { imgSize: 32, patchSize: 4, numClasses: 10 });

  test("hand-computed estimate for vit-micro at 32px/4 (65 tokens)", () => {
    // per image: depth 4 · (66·65·64 + 6·65·128 + 5·4·65²) + 22·65·64 = 1727440 floats (docs/memory.md)
    const fixed = attackBatchBytes(vit, 0);
    assert.equal(attackBatchBytes(vit, 1) - fixed, 4 * 1727440);
    assert.equal(attackBatchBytes(vit, 10) - fixed, 40 * 1727440);
  });

  test("maxAttackBatch is the largest batch that fits", () => {
    const b = maxAttackBatch(vit, WASM_HEAP_LIMIT_BYTES);
    assert.ok(attackBatchBytes(vit, b) <= WASM_HEAP_LIMIT_BYTES);
    assert.ok(attackBatchBytes(vit, b + 1) > WASM_HEAP_LIMIT_BYTES);
    assert.equal(maxAttackBatch(vit, 1000), 0);
  });

  test("eval --batch 20000 is refused with the estimate, the limit and a batch that fits", () => {
    const fits = maxAttackBatch(vit, WASM_HEAP_LIMIT_BYTES);
    assert.throws(
      () => checkAttackBatch(vit, 20000, WASM_HEAP_LIMIT_BYTES, "--batch", "wasm"),
      new RegExp(`^Error: --batch 20000: one attack step needs about 128\\.70 GiB .*over the 3\\.20 GiB the wasm backend can hold; use --batch ${fits} or less$`),
    );
    checkAttackBatch(vit, 64, WASM_HEAP_LIMIT_BYTES, "--batch", "wasm");
    assert.throws(() => checkAttackBatch(vit, 1, 1000, "evaluation.batchSize", "cpu"), /the model itself does not fit/);
  });

  test("backend limits: wasm's heap, else min(16 GiB, 3/4 of RAM)", () => {
    assert.equal(backendMemoryLimit("wasm", 2 ** 40), WASM_HEAP_LIMIT_BYTES);
    assert.equal(backendMemoryLimit("cpu", 8 * 2 ** 30), 6 * 2 ** 30);
    assert.equal(backendMemoryLimit("tensorflow", 2 ** 40), 16 * 2 ** 30);
  });
});
