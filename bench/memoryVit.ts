// Peak memory of the real HyperAT training step on a timm-layout ViT (random weights written
// here, 224 px / patch 16 as timm ships them, loaded at 32 px / patch 4 as the flagship config
// examples/cifar10-vit-b16.hyperat.json does) on wasm or webgpu, at the micro-batch the memory
// plan picks. Prints per step: seconds, peak RSS, the wasm heap size (it never shrinks) or the
// GPU bytes tfjs-webgpu has allocated (its buffer pool keeps every size it ever needed, so this
// is the footprint on the device), tfjs bytes.
// Run: npx tsx bench/memoryVit.ts [preset=vit-base] [batch=32] [steps=2] [attackSteps=1] [backend=wasm]
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { loadModelFile } from "../src/core/model/modelFile";
import { buildTrainer } from "../src/core/train/build";
import { planRun } from "../src/daemon/engine/memoryPlan";
import { describePlan } from "../src/core/memory/plan";
import { flagshipConfig, gb, peakRss, randomTimmFile, wasmHeapBytes } from "./benchVit";

async function main(): Promise<void> {
  const preset = process.argv[2] ?? "vit-base";
  const batch = Number(process.argv[3] ?? 32);
  const steps = Number(process.argv[4] ?? 2);
  const attackSteps = Number(process.argv[5] ?? 1);
  const backend = (process.argv[6] ?? "wasm") as "wasm" | "webgpu";
  const info = await selectBackend(backend);
  const device = () => (backend === "webgpu"
    ? `GPU allocated ${gb(Number((tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU ?? 0))}`
    : `wasm heap ${gb(wasmHeapBytes())}`);
  const file = await randomTimmFile(preset);
  const cfg = flagshipConfig(file, 32, (f) => ({
    attack: { ...f.attack, steps: attackSteps },
    training: { ...f.training, batchSize: batch, microBatchSize: "auto" },
  }));
  const loaded = await loadModelFile(file, { imgSize: 32, patchSize: 4, numClasses: 10 });
  console.log(`backend ${backend}${backend === "wasm" ? ` (${info.blas ?? "XNNPACK"})` : ""}; ${preset} loaded: peak RSS ${gb(peakRss())}, ${device()}`);
  const plan = await planRun(cfg, info, loaded.config);
  console.log(describePlan(plan).join("\n"));
  const trainer = buildTrainer(cfg, loaded.config, loaded.params, { checkpoint: plan.checkpoint });
  for (let s = 0; s < steps; s++) {
    const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, "float32", 10 + s) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => (i + s) % 10), "int32");
    const t0 = Date.now();
    const r = await trainer.trainStepAccumulated(x, y, plan.microBatch);
    tf.dispose([x, y]);
    console.log(`step ${r.step} (${r.defense}, micro-batch ${plan.microBatch} × ${plan.accumulation}): ${((Date.now() - t0) / 1000).toFixed(1)} s, loss ${r.loss.toFixed(4)}, peak RSS ${gb(peakRss())}, ${device()}, tfjs ${gb(tf.memory().numBytes)} in ${tf.memory().numTensors} tensors`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
