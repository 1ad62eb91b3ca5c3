import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { memoryLimit, parseMemoryLimitGiB, WASM_PLAN_BYTES } from "../../../src/core/memory/limits";

const GiB = 2 ** 30;
const host = { freeBytes: 16 * GiB, totalBytes: 24 * GiB };

describe("memory limits and the user's own (HYPERAT_MEMORY_LIMIT_GIB)", () => {
  test("detected limits: wasm's heap, 75 % of free RAM, 4 GiB for a hardware adapter that reports nothing", () => {
    assert.equal(memoryLimit("wasm", host).bytes, WASM_PLAN_BYTES);
    assert.equal(memoryLimit("cpu", host).bytes, 12 * GiB);
    assert.equal(memoryLimit("webgpu", host).bytes, 4 * GiB);
  });

  test("the user's limit replaces the detected one, and says where it comes from", () => {
    const gpu = memoryLimit("webgpu", { ...host, userLimitBytes: parseMemoryLimitGiB("70") });
    assert.deepEqual([gpu.bytes, gpu.source], [70 * GiB, "HYPERAT_MEMORY_LIMIT_GIB=70"]);
    assert.equal(memoryLimit("cpu", { ...host, userLimitBytes: 2.5 * GiB }).bytes, 2.5 * GiB);
  });

  test("on wasm it can only lower the limit: the heap does not grow", () => {
    assert.equal(memoryLimit("wasm", { ...host, userLimitBytes: 64 * GiB }).bytes, WASM_PLAN_BYTES);
    assert.equal(memoryLimit("wasm", { ...host, userLimitBytes: 1 * GiB }).bytes, 1 * GiB);
  });

  test("unset is no limit; a bad value is an error naming the variable", () => {
    assert.equal(parseMemoryLimitGiB(undefined), undefined);
    assert.equal(parseMemoryLimitGiB(" "), undefined);
    for (const bad of ["lots", "0", "-3", "Infinity"]) assert.throws(() => parseMemoryLimitGiB(bad), /^Error: HYPERAT_MEMORY_LIMIT_GIB: expected a positive number of GiB/, bad);
  });
});
