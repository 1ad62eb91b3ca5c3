// Issue 3's acceptance check: a clean-trained (undefended) ViT on the synthetic data must fall to
// ~0% robust accuracy under the standard suite at 8/255. Step 1 of the command in
// bench/RESULTS.md ("Robust evaluation of a clean-trained model"): clean-train vit-micro on
// shapes10?n=4000&seed=1 as examples/demo.hyperat.json pretrains (300 Adam steps, lr 0.002,
// batch 64, seed 0) and save it; step 2 is `hyperat eval` on the saved file.
//   node --import tsx bench/cleanModelEval.ts .hyperat/clean-vit-micro.safetensors
import { selectBackend } from "../src/core/backend/select";
import { presetConfig } from "../src/core/model/config";
import { initParams } from "../src/core/model/params";
import { saveModelFile } from "../src/core/model/modelFile";
import { pretrainClean } from "../src/core/train/pretrain";
import { shapes10 } from "../src/core/data/synthetic";
import { Batcher } from "../src/core/data/batcher";

async function main(out: string): Promise<void> {
  const info = await selectBackend("auto");
  const vit = presetConfig("vit-micro");
  const train = shapes10({ n: 4000, seed: 1, split: "train" });
  const batcher = new Batcher(train, { batchSize: 64, seed: 0, stream: "pretrain-data" });
  const t0 = Date.now();
  const init = initParams(vit, 0);
  const params = await pretrainClean({
    vit,
    init,
    steps: 300,
    lr: 0.002,
    nextBatch: () => {
      const b = batcher.nextBatch();
      return { x: b.x, y: b.y };
    },
    onStep: (s, loss) => {
      if (s % 50 === 0) console.error(`step ${s}/300 loss ${loss.toFixed(3)}`);
    },
  });
  await saveModelFile(out, vit, params, { provenance: "clean-trained vit-micro on synthetic:shapes10 (bench/cleanModelEval.ts)" });
  console.error(`trained in ${((Date.now() - t0) / 1000).toFixed(1)} s on ${info.backend}; wrote ${out}`);
}

main(process.argv[2] ?? ".hyperat/clean-vit-micro.safetensors").catch((e) => {
  console.error(e);
  process.exit(1);
});
