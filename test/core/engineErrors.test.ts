import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { explainError, quote } from "../../src/core/engineErrors";
import { toResponseError } from "../../src/daemon/rpcErrors";
import { ErrorCodes } from "../../src/protocol/errors";
import { ConfigError } from "../../src/core/config/configError";

describe("explainError", () => {
  // The raw texts the issue-15 probe saw reach the user.
  const cases: Array<[Error, RegExp]> = [
    [new Error("Aborted()"), /^out of memory: the wasm backend's heap .* is full \(engine said: Aborted\(\)\); lower the batch size/],
    [Object.assign(new Error("memory access out of bounds"), { name: "RuntimeError" }), /wasm backend's heap .*memory access out of bounds/],
    [new Error("training worker crashed: Aborted(). Build with -sASSERTIONS for more info."), /wasm backend's heap/],
    [new RangeError("Invalid typed array length: 3072000000000"), /an array of 3072000000000 elements \(11444\.1 GiB as float32\) could not be allocated.*the number of samples \(n= in the data spec/],
    [new RangeError("Array buffer allocation failed"), /^out of memory: an array could not be allocated \(engine said: Array buffer allocation failed\)/],
  ];
  for (const [raw, msg] of cases) {
    test(`maps "${raw.message}"`, () => {
      const e = explainError(raw);
      assert.equal(e.name, "ResourceExhaustedError");
      assert.match(e.message, msg);
      assert.match(e.message, /batch size .*--batch.*model\.preset/, "says what to change");
    });
  }

  test("leaves other errors (and our named ones, whose text may quote user input) untouched", () => {
    const plain = new Error("data spec \"x\": does not exist");
    assert.equal(explainError(plain), plain);
    const cfg = new ConfigError("/name", "out of memory is not a name");
    assert.equal(explainError(cfg), cfg);
    assert.equal(explainError("Aborted()").name, "ResourceExhaustedError", "non-Error values too");
  });

  test("RPC errors: a mapped engine error is MemoryLimit, and echoed input is capped", () => {
    const re = toResponseError(new Error("memory access out of bounds"));
    assert.equal(re.code, ErrorCodes.MemoryLimit);
    assert.match(re.message, /^out of memory/);
    const huge = toResponseError(Object.assign(new Error(`unknown run "${"A".repeat(10_000_000)}"`), { name: "UnknownRunError", runId: "A".repeat(10_000_000) }));
    assert.ok(huge.message.length < 4100, `message of ${huge.message.length} characters`);
    assert.ok((huge.data as { runId: string }).runId.length < 1100);
    assert.match(huge.message, /… \(10000014 characters\)$/);
    assert.equal(quote("short"), "short");
  });
});
