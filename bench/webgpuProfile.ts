// Which kernels a ViT forward + backward spends its time in, on one backend (issue 11: fuse the
// stock webgpu ops only where the profile shows them dominating). Usage:
//   node --import tsx bench/webgpuProfile.ts <backend> [preset] [depth] [batch] [fast|stock|plain]
// fast = the default model code; stock = the same without our fused webgpu kernels (selection
// with the fast paths off installs none, src/core/backend/select.ts); plain = every fast path off.
// Runs one warm-up pass, then tf.profile over loss + gradients w.r.t. the input and every
// parameter (what an attack step plus a training backward costs), and prints one JSON object:
// per kernel name, calls and summed kernel ms (GPU timestamps on webgpu when the adapter has
// timestamp-query), and the same summed into the groups a fused kernel would replace.
import * as tf from "@tensorflow/tfjs";
import { selectBackend, describeBackend } from "../src/core/backend/select";
import type { BackendRequest } from "../src/core/backend/names";
import { presetConfig, PRESETS, validateConfig } from "../src/core/model/config";
import { initParams, disposeParams } from "../src/core/model/params";
import { forward, setFastPaths } from "../src/core/model/vit";
import { Rng } from "../src/core/rng";
import { stepFlops } from "../src/bench/flops";

async function main(): Promise<void> {
  const [backendArg = "webgpu", preset = "vit-base", depthArg = "2", batchArg = "4", mode = "fast"] = process.argv.slice(2);
  setFastPaths(mode === "fast");
  const info = await selectBackend(backendArg as BackendRequest);
  setFastPaths(mode !== "plain");
  const base = presetConfig(preset, { imgSize: 32, numClasses: 10 });
  const vit = validateConfig({ ...base, ...PRESETS[preset], depth: Number(depthArg) });
  const batch = Number(batchArg);
  const params = initParams(vit, 1);
  const rng = Rng.fromSeed(3, "profile");
  const x = tf.tensor4d(rng.fillUniform(batch * 32 * 32 * 3, 0, 1), [batch, 32, 32, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, () => rng.int(10)), "int32"), 10);
  const names = Object.keys(params);
  const step = async () => {
    const grads = tf.tidy(() => {
      const f = (xi: tf.Tensor, ...ps: tf.Tensor[]) => {
        const p = Object.fromEntries(names.map((n, i) => [n, ps[i]]));
        return tf.losses.softmaxCrossEntropy(y, forward(vit, p, xi as tf.Tensor4D)) as tf.Scalar;
      };
      return tf.grads(f)([x, ...names.map((n) => params[n])]);
    });
    await Promise.all(grads.map((g) => g.data()));
    tf.dispose(grads);
  };
  await step(); // compiles the shaders
  const t0 = performance.now();
  const prof = await tf.profile(step);
  const wallMs = performance.now() - t0;
  const perKernel = new Map<string, { calls: number; ms: number }>();
  let timed = true;
  for (const k of prof.kernels) {
    const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : NaN;
    if (Number.isNaN(ms)) timed = false;
    const e = perKernel.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += Number.isNaN(ms) ? 0 : ms;
    perKernel.set(k.name, e);
  }
  const rows = [...perKernel.entries()].sort((a, b) => b[1].ms - a[1].ms || b[1].calls - a[1].calls);
  const totalMs = rows.reduce((s, [, e]) => s + e.ms, 0);
  // Identity/Reshape only relabel buffers on webgpu; "forward" is customGrad's wrapper record.
  const free = new Set(["Identity", "Reshape", "forward"]);
  const dispatches = rows.reduce((s, [name, e]) => s + (free.has(name) ? 0 : e.calls), 0);
  // Analytic matmul FLOPs of forward + full backward (src/bench/flops.ts) over kernel time.
  const flops = stepFlops(vit, batch, 0, 0).trainStep;
  const matMulMs = perKernel.get("BatchMatMul")?.ms ?? 0;
  const gflops = (ms: number) => (ms > 0 ? Math.round((flops / (ms * 1e6)) * 10) / 10 : null);
  console.log(JSON.stringify({
    backend: describeBackend(info), model: `${preset} depth ${vit.depth} 32px/patch ${vit.patchSize}`, batch, mode,
    wallMs: Math.round(wallMs), kernelMs: Math.round(totalMs), timed, dispatches, gflop: Math.round(flops / 1e8) / 10,
    gflopsPerSecond: { allKernels: gflops(totalMs), matMulKernels: gflops(matMulMs) },
    top: rows.slice(0, 40).map(([name, e]) => ({ name, calls: e.calls, ms: Math.round(e.ms * 10) / 10, share: totalMs ? Math.round((1000 * e.ms) / totalMs) / 10 : 0 })),
  }, null, 1));
  tf.dispose([x, y]);
  disposeParams(params);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
