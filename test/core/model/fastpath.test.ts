import { before, describe } from "node:test";
import { selectBackend } from "../../../src/core/backend/select";
import { fastPathCases } from "./fastpathCases";

// The cpu backend: batchMatMul falls back to tf.matMul; the fused gradients still run here.
describe("fast compute paths (cpu)", () => {
  before(async () => {
    await selectBackend("cpu");
  });
  fastPathCases();
});
