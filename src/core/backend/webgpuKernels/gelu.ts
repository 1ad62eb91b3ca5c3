import * as tf from "@tensorflow/tfjs";
import { checkInputs, flatProgram, type WebgpuKernelBackend } from "./program";

/**
 * Exact GELU as one WGSL dispatch forward and one backward, instead of tfjs' ~5 (Multiply, Erf,
 * Add, Multiply, Multiply) and ~7 (Square, Multiply, Exp, …). erf is tfjs' own Abramowitz–Stegun
 * 7.1.26 with its constants (backend_util.ERF_*), as the cpu and webgpu Erf kernels use, so the
 * result matches the composed form in src/core/model/fusedOps.ts to float rounding:
 *   y = x · Φ(x),  dx = dy · (Φ(x) + x · φ(x)),  Φ(x) = ½(1 + erf(x/√2)),  φ(x) = e^(−x²/2)/√(2π).
 * The backward pass recomputes Φ and φ from x instead of saving a derivative tensor.
 */
export const WEBGPU_GELU = "HyperatWebgpuGelu";
export const WEBGPU_GELU_GRAD = "HyperatWebgpuGeluGrad";

const u = tf.backend_util;
const ERF = `
      fn erfAS(z : f32) -> f32 {
        let v = abs(z);
        let t = 1.0 / (1.0 + ${u.ERF_P} * v);
        let e = 1.0 - (((((${u.ERF_A5} * t + ${u.ERF_A4}) * t) + ${u.ERF_A3}) * t + ${u.ERF_A2}) * t + ${u.ERF_A1}) * t * exp(-v * v);
        return select(e, -e, z < 0.0);
      }
      fn cdf(x : f32) -> f32 { return (erfAS(x * ${Math.SQRT1_2}) + 1.0) * 0.5; }`;

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown };

function withErf(program: ReturnType<typeof flatProgram>) {
  const body = program.getUserCode;
  return { ...program, getUserCode: () => ERF + body() };
}

function geluKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { x } = inputs as { x: tf.TensorInfo };
  checkInputs(WEBGPU_GELU, { x });
  const program = withErf(flatProgram("hyperat_gelu", ["src"], x.shape, `
          let v = src[index];
          setOutputAtIndex(index, v * cdf(v));`));
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [x], "float32");
}

function geluGradKernel({ inputs, backend }: Args): tf.TensorInfo {
  const { dy, x } = inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  checkInputs(WEBGPU_GELU_GRAD, { dy, x });
  if (dy.shape.join() !== x.shape.join()) throw new Error(`${WEBGPU_GELU_GRAD}: dy [${dy.shape}] and x [${x.shape}] differ`);
  const program = withErf(flatProgram("hyperat_gelu_grad", ["dy", "src"], x.shape, `
          let v = src[index];
          let pdf = exp((v * v) * -0.5) * ${1 / Math.sqrt(2 * Math.PI)};
          setOutputAtIndex(index, dy[index] * (cdf(v) + v * pdf));`));
  return (backend as WebgpuKernelBackend).runWebGPUProgram(program, [dy, x], "float32");
}

let registered = false;

/** Registers both kernels for webgpu once (installWebgpuFastPaths, fastPaths.ts). */
export function registerWebgpuGelu(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: WEBGPU_GELU, backendName: "webgpu", kernelFunc: geluKernel as unknown as tf.KernelFunc });
  tf.registerKernel({ kernelName: WEBGPU_GELU_GRAD, backendName: "webgpu", kernelFunc: geluGradKernel as unknown as tf.KernelFunc });
}

/** True on webgpu once backend selection installed the kernels. */
export function webgpuGeluAvailable(): boolean {
  return registered && tf.getBackend() === "webgpu";
}

export function webgpuGelu(x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(WEBGPU_GELU, { x }, {}) as tf.Tensor;
}

export function webgpuGeluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel(WEBGPU_GELU_GRAD, { dy, x }, {}) as tf.Tensor;
}
