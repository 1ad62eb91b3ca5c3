import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { describeBackend, type BackendInfo } from "../../../src/core/backend/select";

const base: BackendInfo = { backend: "wasm", requested: "auto", attempts: [], tfjsVersion: "4.22.0", simd: true, threads: false };

describe("describeBackend", () => {
  it("names the native BLAS behind wasm's matMul", () => {
    assert.equal(describeBackend({ ...base, blas: "openblas (libopenblas.so.0)" }), "wasm, matMul on native BLAS openblas (libopenblas.so.0)");
  });
  it("says why there is none and how to get one", () => {
    const line = describeBackend({ ...base, blasUnavailable: "no BLAS library found (libopenblas.so.0: not found)" });
    assert.match(line, /^wasm, matMul on XNNPACK \(no native BLAS: no BLAS library found .*\); installing OpenBLAS .*apt-get install libopenblas0/);
  });
  it("is just the name for other backends", () => {
    assert.equal(describeBackend({ ...base, backend: "tensorflow" }), "tensorflow");
  });
});
