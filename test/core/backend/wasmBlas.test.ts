import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend, type BackendInfo } from "../../../src/core/backend/select";
import { loadBlas } from "../../../src/core/backend/blas";
import { blasSuiteSkip } from "../../blasSkip";
import { installWasmBlas, uninstallWasmBlas, wasmBlas } from "../../../src/core/backend/wasm/blasMatMul";
import { setWasmBackend } from "./wasmBackend";

// A system BLAS behind wasm's BatchMatMul. Where none is installed the suite says so and skips,
// except under CI=true or HYPERAT_REQUIRE_BLAS=1 (.ci/run installs OpenBLAS), where it fails.
const skip = blasSuiteSkip();

function rand(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, "float32", seed);
}

/** The same op on the plain-JS cpu backend: an independent reference. */
async function onCpu(f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend("cpu");
  const r = tf.tidy(f);
  const out = (Array.isArray(r) ? r : [r]).map((t) => t.dataSync() as Float32Array);
  tf.dispose(r);
  await setWasmBackend();
  return out;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < actual.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  assert.ok(maxErr <= 1e-5 * Math.max(1, maxRef), `${what}: max |Δ| ${maxErr} (max |ref| ${maxRef})`);
}

interface Case { a: number[]; b: number[]; ta: boolean; tb: boolean }
const CASES: Case[] = [
  { a: [5, 7], b: [7, 3], ta: false, tb: false },
  { a: [5, 7], b: [3, 7], ta: false, tb: true },
  { a: [7, 5], b: [7, 3], ta: true, tb: false },
  { a: [7, 5], b: [3, 7], ta: true, tb: true },
  { a: [4, 6, 8], b: [4, 8, 6], ta: false, tb: false }, // attention-style batches
  { a: [4, 6, 8], b: [4, 6, 8], ta: false, tb: true },
  { a: [4, 8, 6], b: [4, 8, 5], ta: true, tb: false },
  { a: [4, 6, 8], b: [1, 8, 3], ta: false, tb: false }, // b broadcast: one stacked product
  { a: [4, 8, 6], b: [1, 8, 3], ta: true, tb: false }, // b broadcast, a transposed: per item
  { a: [1, 6, 8], b: [4, 8, 3], ta: false, tb: false }, // a broadcast
  { a: [2, 3, 4, 5], b: [2, 3, 5, 2], ta: false, tb: false }, // rank 4
];

describe("native BLAS behind wasm's matMul", { skip }, () => {
  let info: BackendInfo;
  before(async () => {
    info = await selectBackend("wasm");
  });
  after(() => uninstallWasmBlas());

  it("is installed by backend selection and named in the backend info", () => {
    assert.ok(wasmBlas(), `wasm matMul is not on BLAS: ${info.blasUnavailable}`);
    assert.match(info.blas ?? "", /\(.+\)/);
  });

  it("computes a hand-checked product in place on the wasm heap", () => {
    const c = tf.matMul(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), tf.tensor2d([[7, 8], [9, 10], [11, 12]]));
    assert.deepEqual(Array.from(c.dataSync()), [58, 64, 139, 154]);
  });

  for (const c of CASES) {
    const name = `[${c.a}]${c.ta ? "ᵀ" : ""} × [${c.b}]${c.tb ? "ᵀ" : ""}`;
    it(`${name}: product and both gradients match the cpu backend`, async () => {
      const f = () => {
        const a = rand(c.a, 1);
        const b = rand(c.b, 2);
        const y = tf.matMul(a, b, c.ta, c.tb);
        const w = rand(y.shape, 3); // a non-uniform upstream gradient
        const [ga, gb] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, c.ta, c.tb), w)))([a, b]);
        return [y, ga, gb];
      };
      const ref = await onCpu(f);
      const got = tf.tidy(f).map((t) => t.dataSync() as Float32Array);
      assertClose(got[0], ref[0], `${name} product`);
      // Broadcast batches reduce over the batch in tfjs-core's gradient only; compare where shapes agree.
      if (got[1].length === ref[1].length) assertClose(got[1], ref[1], `${name} dA`);
      if (got[2].length === ref[2].length) assertClose(got[2], ref[2], `${name} dB`);
    });
  }

  it("treats an empty inner dimension as a zero product", () => {
    const c = tf.matMul(tf.zeros([3, 0]), tf.zeros([0, 2]));
    assert.deepEqual(Array.from(c.dataSync()), [0, 0, 0, 0, 0, 0]);
  });

  it("names both shapes when inner dimensions differ", () => {
    assert.throws(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 2])), /\[2,3\].*\[4,2\]|inner/);
  });

  it("restores XNNPACK on uninstall and agrees with it", () => {
    const a = rand([9, 11], 4);
    const b = rand([11, 13], 5);
    const viaBlas = tf.matMul(a, b).dataSync() as Float32Array;
    const blas = wasmBlas()!;
    uninstallWasmBlas();
    assert.equal(wasmBlas(), undefined);
    const viaXnnpack = tf.matMul(a, b).dataSync() as Float32Array;
    assertClose(viaBlas, viaXnnpack, "BLAS vs XNNPACK");
    assert.ok(installWasmBlas(blas));
  });
});

describe("loading a BLAS library", () => {
  it("says which library failed and why instead of throwing", () => {
    const r = loadBlas("/nonexistent/libnotblas.so");
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.reason, /\/nonexistent\/libnotblas\.so/);
  });
});
