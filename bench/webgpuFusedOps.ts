// The fused WGSL kernels against the stock tfjs-webgpu ops they replace, one op at a time at
// ViT-B/16 shapes (32 px / patch 4: T = 65 tokens, D = 768, 12 heads). Usage:
//   node --import tsx bench/webgpuFusedOps.ts [batch] [reps]
// For each op, forward + backward (loss Σ op(x) ⊙ w): GPU kernel ms summed by tf.profile
// (timestamp queries; median over reps) and the number of real dispatches (Identity/Reshape
// only relabel buffers on webgpu and are not counted). "stock" is the composed form the model
// uses on backends without fused kernels (src/core/model/fusedOps.ts).
import * as tf from "@tensorflow/tfjs";
import { selectBackend, describeBackend } from "../src/core/backend/select";
import { layerNorm, gelu, setFastPaths } from "../src/core/model/vit";
import { installWebgpuFastPaths } from "../src/core/backend/webgpuKernels/fastPaths";

const FREE = new Set(["Identity", "Reshape", "forward"]); // buffer relabels and customGrad's wrapper record

async function measure(fn: () => tf.Tensor[], reps: number): Promise<{ ms: number; dispatches: number }> {
  const run = async () => {
    const r = fn();
    await Promise.all(r.map((t) => t.data()));
    tf.dispose(r);
  };
  await run(); // compiles the shaders
  const ms: number[] = [];
  let dispatches = 0;
  for (let i = 0; i < reps; i++) {
    const p = await tf.profile(run);
    ms.push(p.kernels.reduce((s, k) => s + (k.kernelTimeMs as number), 0));
    dispatches = p.kernels.filter((k) => !FREE.has(k.name)).length;
  }
  ms.sort((a, b) => a - b);
  return { ms: Math.round(ms[Math.floor(reps / 2)] * 10) / 10, dispatches };
}

async function main(): Promise<void> {
  const batch = Number(process.argv[2] ?? 8);
  const reps = Number(process.argv[3] ?? 5);
  setFastPaths(false); // select without installing the fused kernels: the first pass is "stock"
  const info = await selectBackend("webgpu");
  setFastPaths(true);
  const T = 65, D = 768, H = 12;
  const x = tf.randomNormal([batch * T, D], 0, 1, "float32", 1);
  const g = tf.randomNormal([D], 1, 0.2, "float32", 2);
  const b = tf.randomNormal([D], 0, 0.2, "float32", 3);
  const h = tf.randomNormal([batch * T, 4 * D], 0, 1, "float32", 4);
  const s = tf.randomNormal([batch * H, T, T], 0, 2, "float32", 5);
  const weighted = (f: (...a: tf.Tensor[]) => tf.Tensor, w: tf.Tensor, xs: tf.Tensor[]) =>
    () => tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), w)))(xs);
  const wx = tf.randomNormal(x.shape, 0, 1, "float32", 6);
  const wh = tf.randomNormal(h.shape, 0, 1, "float32", 7);
  const ws = tf.randomNormal(s.shape, 0, 1, "float32", 8);
  // Each op with the harness (the loss's Multiply and Sum, its gradient) measured alone on the
  // same shape as `harness`, subtracted below.
  const ops: { op: string; run: () => tf.Tensor[]; harness: () => tf.Tensor[] }[] = [
    { op: `LayerNorm [${batch * T}, ${D}]`, run: weighted((a, gg, bb) => layerNorm(a, gg, bb), wx, [x, g, b]), harness: weighted((a) => a, wx, [x]) },
    { op: `GELU [${batch * T}, ${4 * D}]`, run: weighted((a) => gelu(a), wh, [h]), harness: weighted((a) => a, wh, [h]) },
    { op: `softmax [${batch * H}, ${T}, ${T}]`, run: weighted((a) => tf.softmax(a, -1), ws, [s]), harness: weighted((a) => a, ws, [s]) },
    // A bias gradient: the Add gradient sums the output gradient over its rows (forward only).
    { op: `bias-gradient sum over rows [${batch * T}, ${4 * D}]`, run: () => [tf.sum(h, 0)], harness: () => [] },
  ];
  const net = async (o: (typeof ops)[number]) => {
    const [m, base] = [await measure(o.run, reps), await measure(o.harness, reps)];
    return { ms: Math.round((m.ms - base.ms) * 10) / 10, dispatches: m.dispatches - base.dispatches };
  };
  const rows: Record<string, unknown>[] = [];
  for (const o of ops) rows.push({ op: o.op, stock: await net(o) });
  installWebgpuFastPaths();
  for (const [i, o] of ops.entries()) rows[i].fused = await net(o);
  console.log(JSON.stringify({ backend: describeBackend(info), batch, reps, note: "forward + backward of the op alone (harness subtracted)", rows }, null, 1));
  tf.dispose([x, g, b, h, s, wx, wh, ws]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
