import { loadBlas } from "../src/core/backend/blas";

/**
 * `skip` for suites that need a system BLAS behind wasm's matMul: a reason where none is
 * installed, so the runner says why; false in CI (CI=true) or under HYPERAT_REQUIRE_BLAS=1, where
 * .ci/run installs OpenBLAS and a missing one must fail instead.
 */
export function blasSuiteSkip(): string | false {
  const required = process.env.HYPERAT_REQUIRE_BLAS === "1" || process.env.CI === "true";
  const probe = loadBlas();
  return !probe.ok && !required ? `no system BLAS here: ${probe.reason}` : false;
}
