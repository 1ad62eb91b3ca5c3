import { before, describe } from "node:test";
import { selectBackend } from "../../../src/core/backend/select";
import { blasSuiteSkip } from "../../blasSkip";
import { fastPathCases } from "./fastpathCases";

// The same cases with a native BLAS behind wasm's matMul (flagged products, no explicit
// transposes). Skipped, saying why, where no BLAS is installed — a failure in CI, which has one.
const skip = blasSuiteSkip();

describe("fast compute paths (wasm + native BLAS)", { skip }, () => {
  before(async () => {
    const info = await selectBackend("wasm");
    if (!info.blas) throw new Error(`wasm matMul is not on a native BLAS: ${info.blasUnavailable}`);
  });
  fastPathCases();
});
