// Times the real HyperAT training step (examples/demo.hyperat.json: vit-micro, 32×32, batch 64,
// PGD-3, three defenses) with 1 and 2 workers, interleaved rounds so machine load hits both alike.
// Reports wall ms per step (median) and process CPU ms per step (all threads of this process).
// Run: npx tsx bench/parallelTrainStep.ts [rounds=3] [stepsPerRound=3]
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { validateConfig } from "../src/core/config/validate";
import { RunConfig } from "../src/core/config/types";
import { presetConfig } from "../src/core/model/config";
import { initParams } from "../src/core/model/params";
import { buildTrainer } from "../src/core/train/build";
import { Trainer } from "../src/core/train/trainer";
import { TrainerWorkers } from "../src/daemon/parallel/trainerParallel";
import { pretrainClean } from "../src/core/train/pretrain";
import { pretrainCleanParallel } from "../src/daemon/parallel/pretrainParallel";
import { disposeParams } from "../src/core/model/params";
import { Rng } from "../src/core/rng";

/** CPU ms per OS thread of this process (Linux /proc), keyed by thread id. */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  const tick = 1000 / 100; // USER_HZ
  for (const tid of fs.readdirSync("/proc/self/task")) {
    try {
      const f = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1].split(" ");
      out.set(tid, (Number(f[11]) + Number(f[12])) * tick); // utime, stime (fields 14, 15)
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const perRound = Number(process.argv[3] ?? 3);
  const info = await selectBackend("wasm");
  const demo = JSON.parse(fs.readFileSync("examples/demo.hyperat.json", "utf8"));
  delete demo.$schema;
  const cfg = validateConfig({ ...demo, training: { ...demo.training, workers: 1 } }) as RunConfig;
  const vit = presetConfig(cfg.model.preset, { imgSize: cfg.model.imgSize, patchSize: cfg.model.patchSize, numClasses: 10 });
  const B = cfg.training.batchSize;
  const params = initParams(vit, 0);
  const rng = Rng.fromSeed(0, "bench");
  const x = tf.tensor4d(rng.fillUniform(B * vit.imgSize * vit.imgSize * 3, 0, 1), [B, vit.imgSize, vit.imgSize, 3]);
  const y = tf.tensor1d(Array.from({ length: B }, () => rng.int(10)), "int32");
  const single: Trainer = buildTrainer(cfg, vit, params);
  const sharded: Trainer = buildTrainer(cfg, vit, params);
  const tw = await TrainerWorkers.create(cfg, vit, params, sharded, { workers: 2, backend: info.backend });
  const runs: Record<string, { wall: number[]; cpu: number[]; busiestThread: number[] }> = { "1": { wall: [], cpu: [], busiestThread: [] }, "2": { wall: [], cpu: [], busiestThread: [] } };
  const time = async (key: string, step: () => unknown) => {
    const c0 = process.cpuUsage();
    const th0 = threadCpuMs();
    const t0 = performance.now();
    await step();
    const c = process.cpuUsage(c0);
    runs[key].wall.push(performance.now() - t0);
    runs[key].cpu.push((c.user + c.system) / 1000);
    // The busiest thread's CPU time bounds the step's time on otherwise idle cores.
    let busiest = 0;
    for (const [tid, ms] of threadCpuMs()) busiest = Math.max(busiest, ms - (th0.get(tid) ?? 0));
    runs[key].busiestThread.push(busiest);
  };
  await single.trainStep(x, y); // warm-up (kernels, wasm pages)
  await tw.step(x, y);
  for (let r = 0; r < rounds; r++) {
    for (let s = 0; s < perRound; s++) await time("1", () => single.trainStep(x, y));
    for (let s = 0; s < perRound; s++) await time("2", () => tw.step(x, y));
  }
  await tw.close();
  // Clean pretraining (demo: batch 64), whole runs of `pretrainSteps` steps after a 1-step warm-up; the
  // 2-worker runs include starting the helper (once per pretraining).
  const pretrainSteps = 12;
  const pre: Record<string, { wallMsPerStep: number; cpuMsPerStep: number }> = {};
  for (const w of [1, 2]) {
    const args = (steps: number) => ({ vit, init: params, steps, lr: 1e-3, nextBatch: () => ({ x: tf.clone(x), y: tf.clone(y) }) });
    const go = (steps: number) => (w === 1 ? pretrainClean(args(steps)) : pretrainCleanParallel(args(steps), { workers: 2, backend: info.backend }));
    disposeParams(await go(1));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    disposeParams(await go(pretrainSteps));
    const c = process.cpuUsage(c0);
    pre[`workers${w}`] = { wallMsPerStep: Math.round((performance.now() - t0) / pretrainSteps), cpuMsPerStep: Math.round((c.user + c.system) / 1000 / pretrainSteps) };
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const out = Object.fromEntries(Object.entries(runs).map(([k, v]) => [`workers${k}`, { medianWallMs: Math.round(median(v.wall)), medianCpuMs: Math.round(median(v.cpu)), medianBusiestThreadCpuMs: Math.round(median(v.busiestThread)), wallMs: v.wall.map(Math.round) }]));
  console.log(JSON.stringify({ backend: info.backend, batch: B, pgdSteps: cfg.attack.steps, ...out, speedupWall: +(median(runs["1"].wall) / median(runs["2"].wall)).toFixed(2), speedupBusiestThreadCpu: +(median(runs["1"].busiestThread) / median(runs["2"].busiestThread)).toFixed(2), pretrain: pre }, null, 1));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
