import { before, describe } from "node:test";
import { selectBackend } from "../../../src/core/backend/select";
import { fastPathCases } from "./fastpathCases";

// The wasm backend on its own kernels: batchMatMul runs per item on XNNPACK through the custom
// kernel. (fastpath.wasmBlas.test.ts covers the same cases with a native BLAS behind matMul.)
describe("fast compute paths (wasm, XNNPACK)", () => {
  before(async () => {
    process.env.HYPERAT_BLAS = "off";
    await selectBackend("wasm");
  });
  fastPathCases();
});
