/**
 * Resizing a checkpoint for another image or patch size (e.g. 224/16 → 32/4, the usual CIFAR
 * recipe), on raw float32 arrays.
 *
 * - Position embeddings: the class-token row is kept; the g×g grid is resampled separably with
 *   an antialiased linear (triangle) filter, half-pixel centres (align_corners=False). This is
 *   PIL's / PyTorch's `antialias=True` bilinear: identical to plain bilinear when upsampling, an
 *   area-weighted average when downsampling. (timm's `resample_abs_pos_embed` uses bicubic with
 *   antialias; bilinear keeps values inside the original range.)
 * - Patch kernel: FlexiViT's pseudo-inverse resize (Beyer et al., CVPR 2023, Eq. 3-4). If B
 *   resizes a P×P patch to P'×P', we want ⟨B x, ŵ⟩ = ⟨x, w⟩ for every patch x, solved in the
 *   least-squares sense: ŵ = pinv(Bᵀ) w. With a separable B = B₁ ⊗ B₁ this is
 *   Ŵ = pinv(B₁ᵀ) · W · pinv(B₁ᵀ)ᵀ per (output channel, input channel). Exact when upsampling;
 *   the best least-squares match when downsampling.
 */

/** Row-major `[outSize, inSize]` matrix of an antialiased linear resize (rows sum to 1). */
export function linearResizeMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  const support = Math.max(scale, 1); // filter widens when downsampling (antialias)
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let sum = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      m[i * inSize + j] = w;
      sum += w;
    }
    for (let j = lo; j < hi; j++) m[i * inSize + j] /= sum;
  }
  return m;
}

/** Resizes a `[gIn, gIn, D]` grid (row-major, channels last) to `[gOut, gOut, D]`. */
export function resizeGrid(grid: Float32Array, gIn: number, gOut: number, d: number): Float32Array {
  if (grid.length !== gIn * gIn * d) throw new Error(`resizeGrid: ${grid.length} values for [${gIn}, ${gIn}, ${d}]`);
  const r = linearResizeMatrix(gIn, gOut);
  const rows = new Float64Array(gOut * gIn * d); // resize along the row axis first: [gOut, gIn, D]
  for (let i = 0; i < gOut; i++) {
    for (let k = 0; k < gIn; k++) {
      const w = r[i * gIn + k];
      if (w === 0) continue;
      for (let x = 0; x < gIn; x++) for (let c = 0; c < d; c++) rows[(i * gIn + x) * d + c] += w * grid[(k * gIn + x) * d + c];
    }
  }
  const out = new Float32Array(gOut * gOut * d);
  for (let y = 0; y < gOut; y++) {
    for (let j = 0; j < gOut; j++) {
      for (let k = 0; k < gIn; k++) {
        const w = r[j * gIn + k];
        if (w === 0) continue;
        for (let c = 0; c < d; c++) out[(y * gOut + j) * d + c] += w * rows[(y * gIn + k) * d + c];
      }
    }
  }
  return out;
}

/** `[1, 1 + gIn², D]` → `[1, 1 + gOut², D]`, class-token row unchanged. */
export function resizePosEmbed(pos: Float32Array, gIn: number, gOut: number, d: number): Float32Array {
  if (pos.length !== (1 + gIn * gIn) * d) throw new Error(`pos_embed has ${pos.length} values, expected (1 + ${gIn}²)·${d}`);
  const out = new Float32Array((1 + gOut * gOut) * d);
  out.set(pos.subarray(0, d), 0);
  out.set(resizeGrid(pos.subarray(d), gIn, gOut, d), d);
  return out;
}

/** Inverse of a small square matrix by Gauss-Jordan with partial pivoting. */
export function invert(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[piv * n + col])) piv = r;
    if (Math.abs(m[piv * n + col]) < 1e-12) throw new Error(`invert: matrix is singular (column ${col})`);
    for (let c = 0; c < n; c++) {
      [m[col * n + c], m[piv * n + c]] = [m[piv * n + c], m[col * n + c]];
      [inv[col * n + c], inv[piv * n + c]] = [inv[piv * n + c], inv[col * n + c]];
    }
    const p = m[col * n + col];
    for (let c = 0; c < n; c++) {
      m[col * n + c] /= p;
      inv[col * n + c] /= p;
    }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col];
      if (f === 0) continue;
      for (let c = 0; c < n; c++) {
        m[r * n + c] -= f * m[col * n + c];
        inv[r * n + c] -= f * inv[col * n + c];
      }
    }
  }
  return inv;
}

/** `[rows, k] · [k, cols]` in float64. */
function matmul(a: Float64Array, b: Float64Array, rows: number, k: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let t = 0; t < k; t++) {
    const v = a[i * k + t];
    if (v !== 0) for (let j = 0; j < cols; j++) out[i * cols + j] += v * b[t * cols + j];
  }
  return out;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** pinv(B₁ᵀ) as `[pOut, pIn]`, where B₁ is the `[pOut, pIn]` 1-D resize matrix. */
export function pinvResizeTranspose(pIn: number, pOut: number): Float64Array {
  const b = linearResizeMatrix(pIn, pOut); // [pOut, pIn]
  const bt = transpose(b, pOut, pIn); // [pIn, pOut]
  if (pOut <= pIn) {
    // Bᵀ is tall with full column rank: pinv(Bᵀ) = (B Bᵀ)⁻¹ B.
    return matmul(invert(matmul(b, bt, pOut, pIn, pOut), pOut), b, pOut, pOut, pIn);
  }
  // Bᵀ is wide with full row rank: pinv(Bᵀ) = B (Bᵀ B)⁻¹.
  return matmul(b, invert(matmul(bt, b, pIn, pOut, pIn), pIn), pOut, pIn, pIn);
}

/** timm-layout patch kernel `[D, C, pIn, pIn]` → `[D, C, pOut, pOut]` by FlexiViT PI-resize. */
export function resizePatchKernel(w: Float32Array, d: number, c: number, pIn: number, pOut: number): Float32Array {
  if (w.length !== d * c * pIn * pIn) throw new Error(`patch kernel has ${w.length} values, expected [${d}, ${c}, ${pIn}, ${pIn}]`);
  const p = pinvResizeTranspose(pIn, pOut); // [pOut, pIn]
  const pt = transpose(p, pOut, pIn); // [pIn, pOut]
  const out = new Float32Array(d * c * pOut * pOut);
  for (let k = 0; k < d * c; k++) {
    const kernel = Float64Array.from(w.subarray(k * pIn * pIn, (k + 1) * pIn * pIn));
    const r = matmul(matmul(p, kernel, pOut, pIn, pIn), pt, pOut, pIn, pOut);
    out.set(r, k * pOut * pOut);
  }
  return out;
}
