/**
 * Engine layout ↔ timm/PyTorch layout of ViT parameters, on raw float32 arrays (file boundary).
 * Engine: linear weights `[d_in, d_out]`, patch kernel `[C·P·P, D]` flattened in (c, ph, pw)
 * order (see `patchify` in vit.ts). timm: linear weights `[d_out, d_in]`, patch kernel
 * `[D, C, P, P]` (a conv weight). Everything else is identical in both.
 */
export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

export const PATCH_WEIGHT = "patch_embed.proj.weight";

/** Linear weights that are transposed between layouts (patch kernel handled separately). */
export function isLinearWeight(name: string): boolean {
  return name === "head.weight" || /^blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(fc1|fc2))\.weight$/.test(name);
}

/** `[rows, cols]` row-major → `[cols, rows]`. */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  if (data.length !== rows * cols) throw new Error(`transpose2d: ${data.length} values for [${rows}, ${cols}]`);
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** One engine tensor in timm layout. `inChans` fixes how the patch kernel's rows split. */
export function engineToTimm(name: string, t: RawTensor, inChans = 3): RawTensor {
  if (name === PATCH_WEIGHT) {
    const [k, d] = t.shape;
    const p = Math.round(Math.sqrt(k / inChans));
    if (t.shape.length !== 2 || p * p * inChans !== k) {
      throw new Error(`"${name}" has engine shape [${t.shape}], expected [${inChans}·P·P, D]`);
    }
    // [C·P·P, D] → [D, C·P·P] = [D, C, P, P] since rows are already in (c, ph, pw) order.
    return { shape: [d, inChans, p, p], data: transpose2d(t.data, k, d) };
  }
  if (isLinearWeight(name)) {
    if (t.shape.length !== 2) throw new Error(`"${name}" has shape [${t.shape}], expected a 2-D linear weight`);
    const [din, dout] = t.shape;
    return { shape: [dout, din], data: transpose2d(t.data, din, dout) };
  }
  return { shape: [...t.shape], data: t.data.slice() };
}

/** One timm tensor in engine layout (inverse of `engineToTimm`). */
export function timmToEngine(name: string, t: RawTensor): RawTensor {
  if (name === PATCH_WEIGHT) {
    if (t.shape.length !== 4 || t.shape[2] !== t.shape[3]) {
      throw new Error(`"${name}" has shape [${t.shape}], expected [D, C, P, P]`);
    }
    const [d, c, p] = t.shape;
    return { shape: [c * p * p, d], data: transpose2d(t.data, d, c * p * p) };
  }
  if (isLinearWeight(name)) {
    if (t.shape.length !== 2) throw new Error(`"${name}" has shape [${t.shape}], expected a 2-D linear weight [d_out, d_in]`);
    const [dout, din] = t.shape;
    return { shape: [din, dout], data: transpose2d(t.data, dout, din) };
  }
  return { shape: [...t.shape], data: t.data.slice() };
}

/** The timm shape of an engine-layout shape (no data moved). */
export function timmShapeOf(name: string, engineShape: number[], inChans = 3): number[] {
  if (name === PATCH_WEIGHT) {
    const p = Math.round(Math.sqrt(engineShape[0] / inChans));
    return [engineShape[1], inChans, p, p];
  }
  if (isLinearWeight(name)) return [engineShape[1], engineShape[0]];
  return [...engineShape];
}
