import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { linearResizeMatrix, resizeGrid, resizePosEmbed, resizePatchKernel, pinvResizeTranspose, invert } from "../../../src/core/model/resize";
import { Rng } from "../../../src/core/rng";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

/** Applies a separable `[pOut, pIn]` resize to a `[pIn, pIn]` patch. */
function resizePatch(m: Float64Array, x: Float64Array, pIn: number, pOut: number): Float64Array {
  const out = new Float64Array(pOut * pOut);
  for (let i = 0; i < pOut; i++) for (let j = 0; j < pOut; j++) {
    let s = 0;
    for (let a = 0; a < pIn; a++) for (let b = 0; b < pIn; b++) s += m[i * pIn + a] * m[j * pIn + b] * x[a * pIn + b];
    out[i * pOut + j] = s;
  }
  return out;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe("resize", () => {
  test("1-D resize matrices: hand-checked 2→4 bilinear and 4→2 area average; rows sum to 1", () => {
    // Upsampling, half-pixel centres: out 0,1,2,3 sample at 0.25, 0.75, 1.25, 1.75 in input pixels.
    close(linearResizeMatrix(2, 4), [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1], 1e-12);
    // Downsampling by 2 with antialias: triangle of half-width 2 → weights 1/8,3/8,3/8,1/8 clipped.
    close(linearResizeMatrix(4, 2), [3 / 8 / (7 / 8), 3 / 8 / (7 / 8), 1 / 8 / (7 / 8), 0, 0, 1 / 8 / (7 / 8), 3 / 8 / (7 / 8), 3 / 8 / (7 / 8)], 1e-12);
    for (const [a, b] of [[14, 8], [3, 7], [16, 4]]) {
      const m = linearResizeMatrix(a, b);
      for (let i = 0; i < b; i++) close([m.slice(i * a, (i + 1) * a).reduce((s, v) => s + v, 0)], [1], 1e-12);
    }
  });

  test("position embedding: class token kept, constant grid stays constant, same size is identity", () => {
    const d = 3;
    const pos = new Float32Array((1 + 14 * 14) * d);
    pos.set([7, 8, 9], 0);
    for (let t = 1; t <= 196; t++) pos.set([0.25, -1, 2], t * d);
    const r = resizePosEmbed(pos, 14, 8, d);
    assert.equal(r.length, (1 + 64) * d);
    assert.deepEqual([...r.subarray(0, 3)], [7, 8, 9]);
    for (let t = 1; t <= 64; t++) close(r.subarray(t * d, (t + 1) * d), [0.25, -1, 2], 1e-6);
    const rng = Rng.fromSeed(1, "pos");
    const g = rng.fillNormal(5 * 5 * 2);
    close(resizeGrid(g, 5, 5, 2), g, 1e-6);
  });

  test("a linear ramp upsampled 2→4 matches hand-computed bilinear values (edges clamp)", () => {
    // grid [[0, 1], [2, 3]] with one channel: row r, col c value 2r + c.
    const out = resizeGrid(new Float32Array([0, 1, 2, 3]), 2, 4, 1);
    const w = [0, 0.25, 0.75, 1]; // interpolation position of each output index
    const want: number[] = [];
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) want.push(2 * w[i] + w[j]);
    close(out, want, 1e-6);
  });

  test("invert: A · inv(A) = I; singular matrices are refused", () => {
    const a = new Float64Array([4, 7, 2, 6]);
    close(invert(a, 2), [0.6, -0.7, -0.2, 0.4], 1e-12);
    assert.throws(() => invert(new Float64Array([1, 2, 2, 4]), 2), /singular/);
  });

  test("FlexiViT PI-resize upsampling is exact: ⟨resize(x), ŵ⟩ = ⟨x, w⟩ for every patch x", () => {
    const [pIn, pOut] = [2, 5];
    const rng = Rng.fromSeed(2, "pi");
    const w = rng.fillNormal(pIn * pIn);
    const wHat = resizePatchKernel(w, 1, 1, pIn, pOut);
    const m = linearResizeMatrix(pIn, pOut);
    for (let k = 0; k < 5; k++) {
      const x = Float64Array.from(rng.fillNormal(pIn * pIn));
      close([dot(resizePatch(m, x, pIn, pOut), wHat)], [dot(x, w)], 1e-4);
    }
  });

  test("PI-resize downsampling 16→4 recovers a kernel of the form Bᵀv exactly (least squares)", () => {
    const [pIn, pOut] = [16, 4];
    const rng = Rng.fromSeed(3, "pi-down");
    const v = rng.fillNormal(pOut * pOut);
    const b = linearResizeMatrix(pIn, pOut); // [4, 16]
    // w = (B ⊗ B)ᵀ v, i.e. W = Bᵀ V B
    const w = new Float32Array(pIn * pIn);
    for (let a = 0; a < pIn; a++) for (let c = 0; c < pIn; c++) {
      let s = 0;
      for (let i = 0; i < pOut; i++) for (let j = 0; j < pOut; j++) s += b[i * pIn + a] * v[i * pOut + j] * b[j * pIn + c];
      w[a * pIn + c] = s;
    }
    close(resizePatchKernel(w, 1, 1, pIn, pOut), v, 1e-4);
    assert.equal(pinvResizeTranspose(pIn, pOut).length, pOut * pIn);
  });

  test("size checks name what is wrong", () => {
    assert.throws(() => resizePosEmbed(new Float32Array(9), 2, 3, 2), /pos_embed has 9 values, expected \(1 \+ 2²\)·2/);
    assert.throws(() => resizePatchKernel(new Float32Array(3), 1, 1, 2, 3), /patch kernel has 3 values/);
  });
});
