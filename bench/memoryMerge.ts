// Peak memory of the adaptive merge's λ pass on a timm-layout ViT (random weights, loaded at
// 32 px / patch 4 as examples/cifar10-vit-b16.hyperat.json does, its 3 defenses and LoRA
// targets) on wasm, at λ micro-batch m: the adapters are built as src/daemon/engine/mergeRun.ts
// builds them, a few λ steps run (PGD pass + λ-gradient pass, each step one micro-batch of m),
// then the final checked merge. Prints the memory plan's merge estimate at m (the flagship's
// merge.batchSize), and after each λ step and the final merge the wasm heap (its high-water
// mark: it never shrinks) and the peak RSS. Run one m per process (the heap never shrinks):
//   npx tsx bench/memoryMerge.ts [m=1] [steps=2] [attackSteps=1] [preset=vit-base]
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { loadModelFile } from "../src/core/model/modelFile";
import { buildTrainer } from "../src/core/train/build";
import { adaptiveMerge } from "../src/core/train/adaptiveMerge";
import { mergeWeights, DefenseAdapters } from "../src/core/train/merge";
import { disposeLora, ownedLora } from "../src/core/model/lora";
import { planConfigOf, planRun } from "../src/daemon/engine/memoryPlan";
import { mergePhase } from "../src/core/memory/plan";
import { flagshipConfig, gb, peakRss, randomTimmFile, wasmHeapBytes } from "./benchVit";

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

async function main(): Promise<void> {
  const m = Number(process.argv[2] ?? 1);
  const steps = Number(process.argv[3] ?? 2);
  const attackSteps = Number(process.argv[4] ?? 1);
  const preset = process.argv[5] ?? "vit-base";
  const info = await selectBackend("wasm");
  const file = await randomTimmFile(preset);
  const cfg = flagshipConfig(file, 8);
  const loaded = await loadModelFile(file, { imgSize: 32, patchSize: 4, numClasses: 10 });
  const line = (what: string) => console.log(`${what}: wasm heap ${gib(wasmHeapBytes())}, peak RSS ${gb(peakRss())}, tfjs ${gb(tf.memory().numBytes)} in ${tf.memory().numTensors} tensors`);
  console.log(`backend wasm (${info.blas ?? "XNNPACK"}); ${preset}, ${cfg.defenses.length} defenses, λ micro-batch ${m}, ${steps} λ steps, PGD-${attackSteps}`);
  line("loaded");
  const plan = await planRun(cfg, info, loaded.config);
  const estimate = mergePhase(loaded.config, planConfigOf(cfg), m);
  const parts = Object.entries(estimate.breakdown).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${gib(v)}`);
  console.log(`plan: merge at m ${m} ${gib(estimate.bytes)} = ${parts.join(" + ")}; limit ${gib(plan.limit.bytes)}, the plan picks m ${plan.mergeMicroBatch}`);
  const trainer = buildTrainer(cfg, loaded.config, loaded.params, {});
  const tunable = trainer.args.tunable;
  const names = cfg.defenses.map((d) => d.name);
  const adapters: DefenseAdapters = Object.fromEntries(names.map((name, t) => [name, ownedLora(() => tunable.lora(t)!)]));
  line("adapters built");
  const x = tf.randomUniform([m, 32, 32, 3], 0, 1, "float32", 7) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: m }, (_, i) => i % 10), "int32");
  let t0 = Date.now();
  const lambdas = await adaptiveMerge({
    vit: loaded.config,
    params: tunable.params(),
    adapters,
    x,
    y,
    objective: "adversarial-ce",
    lambdas: cfg.merge.lambdas,
    steps,
    lr: cfg.merge.lr,
    batchSize: m,
    microBatchSize: m,
    attack: { eps: 8 / 255, stepSize: 2 / 255, steps: attackSteps },
    seed: 0,
    onStep: (s, loss) => {
      line(`λ step ${s} (${((Date.now() - t0) / 1000).toFixed(1)} s, loss ${loss.toFixed(4)})`);
      t0 = Date.now();
    },
  });
  tf.dispose([x, y]);
  const merged = await mergeWeights(tunable.params(), adapters, lambdas);
  line("final merge");
  const base = tunable.params();
  for (const [k, v] of Object.entries(merged)) if (base[k] !== v) v.dispose();
  for (const lora of Object.values(adapters)) disposeLora(lora);
  const heap = wasmHeapBytes();
  console.log(`result m ${m}: plan ${estimate.bytes} B (${gib(estimate.bytes)}), wasm heap ${heap} B (${gib(heap)}), plan − heap ${((estimate.bytes - heap) / 2 ** 20).toFixed(1)} MiB, peak RSS ${gb(peakRss())}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
