import { before, describe } from "node:test";
import { selectBackend } from "../../../src/core/backend/select";
import { fastPathCases } from "./fastpathCases";

// The wasm backend: batchMatMul runs per item on XNNPACK through the custom kernel.
describe("fast compute paths (wasm)", () => {
  before(async () => {
    await selectBackend("wasm");
  });
  fastPathCases();
});
