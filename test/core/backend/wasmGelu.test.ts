import { before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../../src/core/backend/select";
import { geluWithDerivative, wasmGeluAvailable } from "../../../src/core/backend/wasm/gelu";
import { fusedGelu } from "../../../src/core/model/fusedOps";

/** erf to ~1e-15: Maclaurin series below 3, the erfc continued fraction above. */
function erf(x: number): number {
  const t = Math.abs(x);
  let r: number;
  if (t < 3) {
    let s = 0;
    let term = t;
    for (let n = 0; n < 200; n++) {
      s += term / (2 * n + 1);
      term *= (-t * t) / (n + 1);
    }
    r = (2 / Math.sqrt(Math.PI)) * s;
  } else {
    let cf = 0;
    for (let k = 60; k >= 1; k--) cf = k / 2 / (t + cf);
    r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + cf);
  }
  return x < 0 ? -r : r;
}
const cdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
const gelu = (x: number) => x * cdf(x);
const dgelu = (x: number) => cdf(x) + (x * Math.exp(-x * x / 2)) / Math.sqrt(2 * Math.PI);

describe("wasm SIMD GELU kernel", () => {
  before(async () => {
    process.env.HYPERAT_BLAS = "off"; // this file tests the GELU kernel alone
    await selectBackend("wasm");
    assert.ok(wasmGeluAvailable());
  });

  // Lengths 1–9 cover every n mod 4 tail the JavaScript remainder loop handles.
  for (const n of [1, 2, 3, 4, 5, 6, 7, 9, 4099]) {
    it(`y and dy/dx match exact GELU to 1e-6 (${n} values)`, () => {
      const xs = Array.from({ length: n }, (_, i) => (n === 1 ? -0.7 : -9 + (18 * i) / (n - 1)));
      const [y, d] = tf.tidy(() => geluWithDerivative(tf.tensor1d(xs)).map((t) => tf.keep(t)));
      const ya = y.dataSync();
      const da = d.dataSync();
      xs.forEach((x, i) => {
        const xf = Math.fround(x);
        assert.ok(Math.abs(ya[i] - gelu(xf)) <= 1e-6 * Math.max(1, Math.abs(gelu(xf))), `y(${xf}) = ${ya[i]}, exact ${gelu(xf)}`);
        assert.ok(Math.abs(da[i] - dgelu(xf)) <= 1e-6, `y'(${xf}) = ${da[i]}, exact ${dgelu(xf)}`);
      });
      tf.dispose([y, d]);
    });
  }

  it("hand-checked values: GELU(0) = 0, GELU'(0) = ½, GELU(1) = Φ(1) = 0.841345, large |x| saturates", () => {
    const [y, d] = geluWithDerivative(tf.tensor1d([0, 1, -20, 20]));
    const ya = Array.from(y.dataSync());
    const da = Array.from(d.dataSync());
    assert.equal(ya[0], 0);
    assert.ok(Math.abs(da[0] - 0.5) < 1e-7);
    assert.ok(Math.abs(ya[1] - 0.8413447) < 1e-6);
    assert.ok(Math.abs(ya[2]) < 1e-30 && Math.abs(ya[3] - 20) < 1e-5);
    assert.ok(Math.abs(da[2]) < 1e-30 && Math.abs(da[3] - 1) < 1e-7);
    tf.dispose([y, d]);
  });

  it("fusedGelu's gradient is dy · GELU'(x) and leaks no tensor", () => {
    const x = tf.tensor2d([[-2, -0.5, 0.25], [1.5, 3, -4]]);
    const dy = tf.tensor2d([[1, -2, 0.5], [3, 1, -1]]);
    const n0 = tf.memory().numTensors;
    const g = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(fusedGelu(v), dy)))(x));
    assert.equal(tf.memory().numTensors, n0 + 1);
    const xs = x.dataSync();
    const ws = dy.dataSync();
    g.dataSync().forEach((gi, i) => assert.ok(Math.abs(gi - ws[i] * dgelu(xs[i])) <= 1e-6 * Math.max(1, Math.abs(ws[i])), `dx[${i}]`));
    tf.dispose([x, dy, g]);
  });

  it("rejects a non-float32 input naming dtype and shape", () => {
    assert.throws(() => geluWithDerivative(tf.tensor1d([1, 2], "int32")), /expected float32, got int32 \[2\]/);
  });
});
