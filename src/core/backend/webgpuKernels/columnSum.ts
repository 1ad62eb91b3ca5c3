import * as tf from "@tensorflow/tfjs";
import { rowUniforms, type GpuProgram, type WebgpuKernelBackend } from "./program";
import { overrideKernel } from "../kernelOverride";

/**
 * Sums over the leading rows of a `[rows, cols]` view, one WGSL dispatch: each workgroup takes 32
 * adjacent columns (coalesced reads) and splits the rows over 8 slices, then adds the slices.
 * Used for LayerNorm's dγ and dβ (layerNorm.ts) and, through the Sum override below, for every
 * sum over leading axes on webgpu: the bias gradients of every linear map. tfjs-webgpu's own
 * Sum over axis 0 of a [2080, 3072] tensor took 262 ms on lavapipe, this kernel 31 ms
 * (bench/RESULTS.md, "webgpu").
 */
const COLS_PER_GROUP = 32;
const ROW_SLICES = 8;

/** `term` is a WGSL f32 expression of `i` (the flat input index) and `r` (its row). */
export function columnSumProgram(key: string, variableNames: string[], cols: number, term: string, outputShape: number[] = [cols]): GpuProgram {
  const threads = COLS_PER_GROUP * ROW_SLICES;
  return {
    variableNames,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(cols / COLS_PER_GROUP), 1, 1],
    workgroupSize: [threads, 1, 1],
    uniforms: "rows : i32, cols : i32,",
    getUserCode: () => `
      var<workgroup> part : array<f32, ${threads}>;
      fn main(index : i32) {
        let tid = i32(localId.x);
        let lane = tid % ${COLS_PER_GROUP};
        let slice = tid / ${COLS_PER_GROUP};
        let col = (index / ${threads}) * ${COLS_PER_GROUP} + lane;
        let cols = uniforms.cols;
        var s = 0.0;
        if (col < cols) {
          for (var r = slice; r < uniforms.rows; r = r + ${ROW_SLICES}) {
            let i = r * cols + col;
            s = s + ${term};
          }
        }
        part[tid] = s;
        workgroupBarrier();
        for (var k = ${ROW_SLICES / 2}; k > 0; k = k / 2) {
          if (slice < k) { part[tid] = part[tid] + part[tid + k * ${COLS_PER_GROUP}]; }
          workgroupBarrier();
        }
        if (slice == 0 && col < cols) { setOutputAtIndex(col, part[lane]); }
      }`,
  };
}

/**
 * How many leading axes `axis` reduces, when it is exactly axes 0 … k−1 with k below the rank
 * (a sum over rows of a row-major view); undefined for any other reduction.
 */
export function leadingAxes(axis: number | number[], rank: number): number | undefined {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return undefined;
  return axes.every((a, i) => a === i) ? axes.length : undefined;
}

type SumArgs = { inputs: { x: tf.TensorInfo }; backend: unknown; attrs: { axis: number | number[]; keepDims: boolean } };

function leadingSum(args: SumArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { x } = args.inputs;
  const k = x.dtype === "float32" ? leadingAxes(args.attrs.axis, x.shape.length) : undefined;
  if (k === undefined) return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
  const rest = x.shape.slice(k);
  const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const cols = rest.reduce((a, b) => a * b, 1);
  if (rows === 0 || cols === 0) return stock(args as unknown as Parameters<tf.KernelFunc>[0]);
  const outShape = args.attrs.keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
  const program = columnSumProgram("hyperat_sum_leading", ["src"], cols, "src[i]", outShape);
  return (args.backend as WebgpuKernelBackend).runWebGPUProgram(program, [x], "float32", rowUniforms(rows, cols));
}

let registered = false;

/** Routes webgpu's Sum over leading axes of float32 tensors to the column kernel; the rest stays stock. */
export function registerWebgpuLeadingSum(): void {
  if (registered) return;
  registered = overrideKernel(tf.Sum, "webgpu", (stock) => (args) => leadingSum(args as unknown as SumArgs, stock.kernelFunc)) !== undefined;
}
