// Peak memory of the real HyperAT training step on a timm-layout ViT (random weights written
// here, 224 px / patch 16 as timm ships them, loaded at 32 px / patch 4 as the flagship config
// examples/cifar10-vit-b16.hyperat.json does) on wasm, at the micro-batch the memory plan picks.
// Prints per step: seconds, peak RSS, the wasm heap size (it never shrinks), tfjs bytes.
// Run: npx tsx bench/memoryVit.ts [preset=vit-base] [batch=32] [steps=2] [attackSteps=1]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { validateConfig } from "../src/core/config/validate";
import { presetConfig } from "../src/core/model/config";
import { paramShapes } from "../src/core/model/params";
import { timmShapeOf } from "../src/core/model/timmLayout";
import { loadModelFile } from "../src/core/model/modelFile";
import { writeSafetensorsFile } from "../src/core/io/files";
import { buildTrainer } from "../src/core/train/build";
import { planRun } from "../src/daemon/engine/memoryPlan";
import { describePlan } from "../src/core/memory/plan";
import { Rng } from "../src/core/rng";

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { asm: { memory: WebAssembly.Memory } } };
  return b.wasm ? b.wasm.asm.memory.buffer.byteLength : 0;
}

/** Peak RSS of this process so far (VmHWM), bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

async function writeRandomTimm(file: string, preset: string): Promise<void> {
  const vit = presetConfig(preset, { imgSize: 224, patchSize: 16, numClasses: 1000 });
  const rng = Rng.fromSeed(0, "bench-weights");
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, engineShape] of paramShapes(vit)) {
    const shape = timmShapeOf(name, engineShape);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const std = name.endsWith(".weight") && shape.length === 1 ? 0 : 0.02;
    for (let i = 0; i < data.length; i++) data[i] = name.endsWith("norm1.weight") || name.endsWith("norm2.weight") || name === "norm.weight" ? 1 : std * rng.uniform(-1.7, 1.7);
    tensors[name] = { shape, data };
  }
  await writeSafetensorsFile(file, tensors, { num_heads: String(vit.heads) });
}

async function main(): Promise<void> {
  const preset = process.argv[2] ?? "vit-base";
  const batch = Number(process.argv[3] ?? 32);
  const steps = Number(process.argv[4] ?? 2);
  const attackSteps = Number(process.argv[5] ?? 1);
  const info = await selectBackend("wasm");
  const file = path.join(os.tmpdir(), `hyperat-bench-${preset}.safetensors`);
  if (!fs.existsSync(file)) await writeRandomTimm(file, preset);
  const flagship = JSON.parse(fs.readFileSync("examples/cifar10-vit-b16.hyperat.json", "utf8"));
  delete flagship.$schema;
  const cfg = validateConfig({
    ...flagship,
    model: { ...flagship.model, path: file },
    data: { train: "synthetic:shapes10?n=32", val: "synthetic:shapes10?n=8", test: "synthetic:shapes10?n=8" },
    attack: { ...flagship.attack, steps: attackSteps },
    training: { ...flagship.training, batchSize: batch, microBatchSize: "auto" },
  });
  const loaded = await loadModelFile(file, { imgSize: 32, patchSize: 4, numClasses: 10 });
  console.log(`backend wasm (${info.blas ?? "XNNPACK"}); ${preset} loaded: peak RSS ${gb(peakRss())}, wasm heap ${gb(wasmHeapBytes())}`);
  const plan = await planRun(cfg, info, loaded.config);
  console.log(describePlan(plan).join("\n"));
  const trainer = buildTrainer(cfg, loaded.config, loaded.params, { checkpoint: plan.checkpoint });
  for (let s = 0; s < steps; s++) {
    const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, "float32", 10 + s) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => (i + s) % 10), "int32");
    const t0 = Date.now();
    const r = await trainer.trainStepAccumulated(x, y, plan.microBatch);
    tf.dispose([x, y]);
    console.log(`step ${r.step} (${r.defense}, micro-batch ${plan.microBatch} × ${plan.accumulation}): ${((Date.now() - t0) / 1000).toFixed(1)} s, loss ${r.loss.toFixed(4)}, peak RSS ${gb(peakRss())}, wasm heap ${gb(wasmHeapBytes())}, tfjs ${gb(tf.memory().numBytes)} in ${tf.memory().numTensors} tensors`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
