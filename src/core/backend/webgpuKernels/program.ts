import type * as tf from "@tensorflow/tfjs";

/**
 * Our WGSL kernels on tfjs-backend-webgpu. A program is the object its `runWebGPUProgram` takes
 * (WebGPUProgram in the package's webgpu_program.d.ts): the backend binds the output as
 * `result`, each input as an `array<f32>` named by `variableNames`, and a `uniforms` struct with
 * the shapes plus the fields `uniforms` declares, then calls our `main(index)` per invocation.
 * Typed structurally so that core never imports the backend package (it may only be evaluated
 * once Dawn's navigator.gpu exists, src/core/backend/webgpu.ts).
 */
export interface GpuProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  /** Adds `uniforms.size` = output element count. */
  size?: boolean;
  /** Extra uniform fields, e.g. "rows : i32, cols : i32,", filled from the `uniforms` argument. */
  uniforms?: string;
  getUserCode(): string;
}

export type UniformData = { type: "int32" | "float32"; data: number[] };

/** The one method of tfjs-backend-webgpu's WebGPUBackend the kernels call. */
export interface WebgpuKernelBackend {
  runWebGPUProgram(program: GpuProgram, inputs: tf.TensorInfo[], dtype: "float32", uniforms?: UniformData[]): tf.TensorInfo;
}

/** Elementwise: one invocation per output element, 128 per workgroup. */
export function flatProgram(key: string, variableNames: string[], outputShape: number[], body: string, uniforms?: string): GpuProgram {
  const n = outputShape.reduce((a, b) => a * b, 1);
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(n / 128), 1, 1],
    workgroupSize: [128, 1, 1],
    size: true,
    uniforms,
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${body}
        }
      }`,
  };
}

/** Threads per row for row programs: wide rows (the MLP's 4·D) get more. */
function rowThreads(cols: number): number {
  return cols >= 1024 ? 256 : 64;
}

/**
 * One workgroup per row of a `[rows, cols]` view (row-major, last axis = cols). `body` runs in
 * every invocation with `row`, `tid` (0 … WG−1), `cols`, `live` (row < rows: the backend may
 * pad a dispatch past 65535 workgroups into 2-D, reshapeDispatch in backend_webgpu.js) and
 * `base` = row · cols in scope, and may call `reduceSums(tid)`, which sums `sumA` (and `sumB`
 * when `sums` is 2) over the workgroup into element 0. Barriers must stay in uniform control
 * flow, so `body` guards its loads and stores with `live` rather than returning early.
 */
export function rowProgram(key: string, variableNames: string[], outputShape: number[], rows: number, cols: number, body: string, uniforms = "", sums: 1 | 2 = 1): GpuProgram {
  const wg = rowThreads(cols);
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [rows, 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: `rows : i32, cols : i32, ${uniforms}`,
    getUserCode: () => `
      const WG = ${wg};
      var<workgroup> sumA : array<f32, ${wg}>;
      ${sums === 2 ? `var<workgroup> sumB : array<f32, ${wg}>;` : ""}
      fn reduceSums(tid : i32) {
        workgroupBarrier();
        for (var s = WG / 2; s > 0; s = s / 2) {
          if (tid < s) {
            sumA[tid] = sumA[tid] + sumA[tid + s];
            ${sums === 2 ? "sumB[tid] = sumB[tid] + sumB[tid + s];" : ""}
          }
          workgroupBarrier();
        }
      }
      fn main(index : i32) {
        let tid = i32(localId.x);
        let row = index / WG;
        let cols = uniforms.cols;
        let live = row < uniforms.rows;
        let base = row * cols;
        ${body}
      }`,
  };
}

/** `rows` and `cols` of a tensor viewed as `[rows, last axis]`. */
export function rowsAndCols(shape: number[]): { rows: number; cols: number } {
  const cols = shape[shape.length - 1] ?? 1;
  return { rows: shape.reduce((a, b) => a * b, 1) / Math.max(1, cols), cols };
}

export function rowUniforms(rows: number, cols: number, ...extra: UniformData[]): UniformData[] {
  return [{ type: "int32", data: [rows] }, { type: "int32", data: [cols] }, ...extra];
}

/** Throws naming the kernel, input, dtype and shape unless every input is float32 and each one
 * listed in `perColumn` is a vector of the last axis' length `cols`. */
export function checkInputs(kernel: string, ts: Record<string, tf.TensorInfo>, cols = 0, perColumn: string[] = []): void {
  for (const [name, t] of Object.entries(ts)) {
    if (t.dtype !== "float32") throw new Error(`${kernel}: ${name} must be float32, got ${t.dtype} [${t.shape}]`);
    if (perColumn.includes(name) && (t.shape.length !== 1 || t.shape[0] !== cols)) {
      throw new Error(`${kernel}: ${name} must be [${cols}] (the last axis), got [${t.shape}]`);
    }
  }
}
