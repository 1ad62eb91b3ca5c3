// Trainer step times on one backend (webgpu or any other), through the same async Trainer the
// daemon uses (as `hyperat bench` does, src/bench/runBench.ts), one backend at a time. Usage:
//   node --import tsx bench/webgpuStep.ts <backend> [batch] [iters] [fast|stock]
// stock: select the backend with the fast paths off, so none of our fused kernels is installed
// (src/core/backend/select.ts), then run the model's default code on the stock tfjs ops.
// Prints one JSON line per method: median ms of a HyperAT (3 defenses) step at PGD-2 and PGD-10.
import * as tf from "@tensorflow/tfjs";
import { selectBackend, describeBackend } from "../src/core/backend/select";
import type { BackendRequest } from "../src/core/backend/names";
import { validateConfig } from "../src/core/config/validate";
import { buildTrainer } from "../src/core/train/build";
import { presetConfig } from "../src/core/model/config";
import { initParams, disposeParams } from "../src/core/model/params";
import { Rng } from "../src/core/rng";
import { setFastPaths } from "../src/core/model/vit";

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? "webgpu") as BackendRequest;
  const batch = Number(process.argv[3] ?? 8);
  const iters = Number(process.argv[4] ?? 3);
  const mode = process.argv[5] ?? "fast";
  setFastPaths(mode !== "stock");
  const info = await selectBackend(backend);
  setFastPaths(true);
  const vit = presetConfig("vit-micro", { imgSize: 32, numClasses: 10 });
  for (const pgdSteps of [2, 10]) {
    const cfg = validateConfig({
      seed: 1,
      method: "hyperat",
      defenses: [{ name: "pgd-at" }, { name: "trades" }, { name: "mart" }],
      attack: { eps: "8/255", stepSize: "2/255", steps: pgdSteps },
      training: { steps: 100, batchSize: batch },
    });
    const backbone = initParams(vit, 1);
    const trainer = buildTrainer(cfg, vit, backbone);
    const rng = Rng.fromSeed(3, "bench");
    const x = tf.tensor4d(rng.fillUniform(batch * 32 * 32 * 3, 0, 1), [batch, 32, 32, 3]);
    const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(10)), "int32");
    const times: number[] = [];
    for (let i = 0; i < iters + 1; i++) {
      const t0 = performance.now();
      await trainer.trainStep(x, y);
      if (i > 0) times.push(performance.now() - t0); // the first step compiles shaders / warms caches
    }
    times.sort((a, b) => a - b);
    console.log(JSON.stringify({ backend: describeBackend(info), mode, model: "vit-micro 32px/patch 8", batch, pgdSteps, medianMs: Math.round(times[Math.floor(times.length / 2)]), iters }));
    tf.dispose([x, y]);
    trainer.dispose();
    disposeParams(backbone);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
