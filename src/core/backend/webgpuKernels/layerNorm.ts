import * as tf from "@tensorflow/tfjs";
import { checkInputs, flatProgram, rowProgram, rowsAndCols, rowUniforms, type WebgpuKernelBackend } from "./program";
import { columnSumProgram } from "./columnSum";

/**
 * LayerNorm as five WGSL dispatches instead of the composed form's 20 (forward Mean, Sub, Square,
 * Mean, Add, Rsqrt, Multiply ×2, Add; the rest backward; bench/webgpuFusedOps.ts), with the same
 * math as that form in src/core/model/fusedOps.ts:
 *   forward   stats = (μ, 1/σ) per row (one workgroup per row, two-pass variance), then
 *             y = (x − μ)/σ · γ + β elementwise;
 *   backward  dx = (g − mean(g) − x̂ · mean(g · x̂)) / σ with g = dy · γ (one workgroup per row),
 *             dγ = Σ_rows dy · x̂ and dβ = Σ_rows dy (column sums, columnSum.ts).
 * Only the `[rows, 2]` statistics are saved for the backward pass, not x̂ (D times smaller).
 */
export const WEBGPU_LN_STATS = "HyperatWebgpuLayerNormStats";
export const WEBGPU_LN_APPLY = "HyperatWebgpuLayerNormApply";
export const WEBGPU_LN_GRAD_INPUT = "HyperatWebgpuLayerNormGradInput";
export const WEBGPU_LN_GRAD_SCALE = "HyperatWebgpuLayerNormGradScale";
export const WEBGPU_LN_GRAD_SHIFT = "HyperatWebgpuLayerNormGradShift";

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

function statsKernel({ inputs, backend, attrs }: Args): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  const { eps } = attrs as unknown as { eps: number };
  checkInputs(WEBGPU_LN_STATS, { x });
  const { rows, cols } = rowsAndCols(x.shape);
  const program = rowProgram("hyperat_ln_stats", ["src"], [rows, 2], rows, cols, `
        var s = 0.0;
        if (live) { for (var c = tid; c < cols; c = c + WG) { s = s + src[base + c]; } }
        sumA[tid] = s;
        reduceSums(tid);
        let mean = sumA[0] / f32(cols);
        workgroupBarrier();
        var q = 0.0;
        if (live) { for (var c = tid; c < cols; c = c + WG) { let d = src[base + c] - mean; q = q + d * d; } }
        sumA[tid] = q;
        reduceSums(tid);
        if (live && tid == 0) {
          setOutputAtIndex(row * 2, mean);
          setOutputAtIndex(row * 2 + 1, 1.0 / sqrt(sumA[0] / f32(cols) + uniforms.eps));
        }`, "eps : f32,");
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [x], "float32", rowUniforms(rows, cols, { type: "float32", data: [eps] }));
}

function applyKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { x, stats, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { cols } = rowsAndCols(x.shape);
  checkInputs(WEBGPU_LN_APPLY, { x, stats, gamma, beta }, cols, ["gamma", "beta"]);
  const program = flatProgram("hyperat_ln_apply", ["src", "stats", "gamma", "beta"], x.shape, `
          let r = index / uniforms.cols;
          let c = index - r * uniforms.cols;
          setOutputAtIndex(index, (src[index] - stats[2 * r]) * stats[2 * r + 1] * gamma[c] + beta[c]);`, "cols : i32,");
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [x, stats, gamma, beta], "float32", [{ type: "int32", data: [cols] }]);
}

function gradInputKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { dy, x, stats, gamma } = inputs as Record<string, tf.TensorInfo>;
  const { rows, cols } = rowsAndCols(x.shape);
  checkInputs(WEBGPU_LN_GRAD_INPUT, { dy, x, stats, gamma }, cols, ["gamma"]);
  const program = rowProgram("hyperat_ln_grad_input", ["dy", "src", "stats", "gamma"], x.shape, rows, cols, `
        let r = min(row, uniforms.rows - 1);
        let mean = stats[2 * r];
        let rstd = stats[2 * r + 1];
        var a = 0.0;
        var b = 0.0;
        if (live) {
          for (var c = tid; c < cols; c = c + WG) {
            let g = dy[base + c] * gamma[c];
            a = a + g;
            b = b + g * ((src[base + c] - mean) * rstd);
          }
        }
        sumA[tid] = a;
        sumB[tid] = b;
        reduceSums(tid);
        let meanG = sumA[0] / f32(cols);
        let meanGX = sumB[0] / f32(cols);
        if (live) {
          for (var c = tid; c < cols; c = c + WG) {
            let g = dy[base + c] * gamma[c];
            let xhat = (src[base + c] - mean) * rstd;
            setOutputAtIndex(base + c, ((g - meanG) - xhat * meanGX) * rstd);
          }
        }`, "", 2);
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [dy, x, stats, gamma], "float32", rowUniforms(rows, cols));
}

function gradScaleKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { dy, x, stats } = inputs as Record<string, tf.TensorInfo>;
  const { rows, cols } = rowsAndCols(x.shape);
  checkInputs(WEBGPU_LN_GRAD_SCALE, { dy, x, stats });
  const program = columnSumProgram("hyperat_ln_grad_scale", ["dy", "src", "stats"], cols,
    "dy[i] * ((src[i] - stats[2 * r]) * stats[2 * r + 1])");
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [dy, x, stats], "float32", rowUniforms(rows, cols));
}

function gradShiftKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { dy } = inputs as Record<string, tf.TensorInfo>;
  const { rows, cols } = rowsAndCols(dy.shape);
  checkInputs(WEBGPU_LN_GRAD_SHIFT, { dy });
  const program = columnSumProgram("hyperat_ln_grad_shift", ["dy"], cols, "dy[i]");
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [dy], "float32", rowUniforms(rows, cols));
}

let registered = false;

/** Registers the five kernels for webgpu once (installWebgpuFastPaths, fastPaths.ts). */
export function registerWebgpuLayerNorm(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, (a: Args) => tf.TensorInfo][] = [
    [WEBGPU_LN_STATS, statsKernel], [WEBGPU_LN_APPLY, applyKernel], [WEBGPU_LN_GRAD_INPUT, gradInputKernel],
    [WEBGPU_LN_GRAD_SCALE, gradScaleKernel], [WEBGPU_LN_GRAD_SHIFT, gradShiftKernel],
  ];
  for (const [kernelName, fn] of kernels) tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc: fn as unknown as tf.KernelFunc });
}

/** True on webgpu once backend selection installed the kernels. */
export function webgpuLayerNormAvailable(): boolean {
  return registered && tf.getBackend() === "webgpu";
}

/** `[y, stats]`: LayerNorm over the last axis and the per-row (μ, 1/σ) its gradient needs. */
export function webgpuLayerNormForward(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): [tf.Tensor, tf.Tensor] {
  const stats = tf.engine().runKernel(WEBGPU_LN_STATS, { x }, { eps }) as tf.Tensor;
  const y = tf.engine().runKernel(WEBGPU_LN_APPLY, { x, stats, gamma, beta }, {}) as tf.Tensor;
  return [y, stats];
}

/** `[dx, dγ, dβ]` from the forward input and its statistics. */
export function webgpuLayerNormBackward(dy: tf.Tensor, x: tf.Tensor, stats: tf.Tensor, gamma: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const run = (name: string, inputs: tf.NamedTensorMap) => tf.engine().runKernel(name, inputs, {}) as tf.Tensor;
  return [
    run(WEBGPU_LN_GRAD_INPUT, { dy, x, stats, gamma }),
    run(WEBGPU_LN_GRAD_SCALE, { dy, x, stats }),
    run(WEBGPU_LN_GRAD_SHIFT, { dy }),
  ];
}
