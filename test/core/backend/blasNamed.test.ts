import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { selectBackend, activeBackend } from "../../../src/core/backend/select";

// Its own process (one test file per process): no backend is selected before this.
describe("HYPERAT_BLAS naming a library", () => {
  it("fails backend selection, naming the variable and the library, instead of falling back", async () => {
    process.env.HYPERAT_BLAS = "/nonexistent/libnotblas.so";
    try {
      await assert.rejects(selectBackend("auto"), /HYPERAT_BLAS=\/nonexistent\/libnotblas\.so: /);
      assert.equal(activeBackend(), undefined, "no backend was silently chosen instead");
    } finally {
      delete process.env.HYPERAT_BLAS;
    }
  });
});
