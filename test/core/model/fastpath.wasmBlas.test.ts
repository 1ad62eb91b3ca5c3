import { before, describe } from "node:test";
import { selectBackend } from "../../../src/core/backend/select";
import { loadBlas } from "../../../src/core/backend/blas";
import { fastPathCases } from "./fastpathCases";

// The same cases with a native BLAS behind wasm's matMul (flagged products, no explicit
// transposes). Skipped, saying why, where no BLAS is installed — a failure in CI, which has one.
const probe = loadBlas();
const required = process.env.HYPERAT_REQUIRE_BLAS === "1" || process.env.CI === "true";
const skip = !probe.ok && !required ? `no system BLAS here: ${probe.ok ? "" : probe.reason}` : false;

describe("fast compute paths (wasm + native BLAS)", { skip }, () => {
  before(async () => {
    const info = await selectBackend("wasm");
    if (!info.blas) throw new Error(`wasm matMul is not on a native BLAS: ${info.blasUnavailable}`);
  });
  fastPathCases();
});
