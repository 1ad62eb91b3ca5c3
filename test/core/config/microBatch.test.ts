import { test } from "node:test";
import assert from "node:assert/strict";
import { validateConfig } from "../../../src/core/config/validate";

test('training.microBatchSize defaults to "auto", takes a number up to batchSize, and names the path otherwise', () => {
  assert.equal(validateConfig({}).training.microBatchSize, "auto");
  assert.equal(validateConfig({ training: { batchSize: 128, microBatchSize: 32 } }).training.microBatchSize, 32);
  assert.throws(() => validateConfig({ training: { batchSize: 16, microBatchSize: 32 } }), /\/training\/microBatchSize.*32 is larger than training\.batchSize 16/);
  assert.throws(() => validateConfig({ training: { microBatchSize: 0 } }), /\/training\/microBatchSize/);
  assert.throws(() => validateConfig({ training: { microBatchSize: "max" } }), /\/training\/microBatchSize/);
});
