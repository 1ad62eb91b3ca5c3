import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "../core/model/config";
import { buildModel, disposeModel, ModelSetup, StepMethod, StepSpec } from "../core/parallel/shardStep";
import { AdamW } from "../core/train/adamw";
import { Rng } from "../core/rng";
import { DataParallel } from "../daemon/parallel/dataParallel";
import type { WorkersOption } from "../daemon/parallel/workerCount";
import type { BackendRequest } from "../core/backend/names";
import { stepFlops, StepFlops } from "./flops";

export interface BenchOptions {
  vit: ViTConfig;
  batch: number;
  pgdSteps: number;
  warmup: number;
  iters: number;
  workers: WorkersOption;
  /** Backend the helper workers select (the main thread's is already active). */
  backend: BackendRequest;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

/** The keys `hyperat bench --json` prints, plus the details RESULTS.md shows. */
export interface BenchResult {
  trainStepMs: number;
  advStepMs: number;
  hyperatStepMs: number;
  loraAtStepMs: number;
  /** Adversarially trained images per second: batch / advStepMs. */
  imagesPerSecond: number;
  peakRssBytes: number;
  backend: string;
  workers: number;
  /**
   * Median CPU ms per step of this process, all threads (workers) together: unlike wall time it
   * hardly moves when other jobs share the machine, so it compares work done across runs.
   */
  cpuMs: { trainStep: number; advStep: number; loraAtStep: number; hyperatStep: number };
  /** Effective GFLOP/s of each step from the analytic counts in flops.ts. */
  gflops: { trainStep: number; advStep: number; loraAtStep: number; hyperatStep: number };
  flops: StepFlops;
}

// HYPERAT.md defaults: LoRA r = 8, alpha = 16 on qkv/proj/fc1/fc2; three defenses; eps 8/255,
// PGD step 2/255.
const LORA = { rank: 8, alpha: 16, targets: ["qkv", "proj", "fc1", "fc2"] as const };
const HYPERNET = { numDefenses: 3, embedDim: 32, hiddenDim: 128, latentDim: 32 };
const EPS = 8 / 255;
const STEP = 2 / 255;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set of this process (worker threads included), in bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A fixed batch: pixels in [0,1], labels, and the PGD random start x + U(−eps, eps). */
function makeBatch(vit: ViTConfig, batch: number, seed: number) {
  const rng = Rng.fromSeed(seed, "bench-batch");
  const n = batch * vit.imgSize * vit.imgSize * vit.inChans;
  const shape: [number, number, number, number] = [batch, vit.imgSize, vit.imgSize, vit.inChans];
  const x = tf.tensor4d(rng.fillUniform(n, 0, 1), shape);
  const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(vit.numClasses)), "int32");
  const start = tf.tidy(() => tf.clipByValue(tf.add(x, tf.tensor4d(rng.fillUniform(n, -EPS, EPS), shape)), 0, 1)) as tf.Tensor4D;
  return { x, y, start };
}

/**
 * Median wall-clock ms of `iters` steps after `warmup` steps: attack (pgdSteps > 0) + gradients
 * (sharded over the workers) + one AdamW update of every trainable variable.
 */
async function timeSteps(method: StepMethod, pgdSteps: number, o: BenchOptions, onWorkers: (n: number) => void): Promise<{ wall: number; cpu: number }> {
  const setup: ModelSetup = { vit: o.vit, method, seed: 1, lora: LORA, hypernet: HYPERNET };
  const model = buildModel(setup);
  const dp = await DataParallel.create(model, { workers: o.workers, backend: o.backend });
  onWorkers(dp.workers);
  const opt = new AdamW(model.tunable.vars, { beta1: 0.9, beta2: 0.999, weightDecay: 0, gradClip: 0 });
  const batch = makeBatch(o.vit, o.batch, 7);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  try {
    for (let i = 0; i < o.warmup + o.iters; i++) {
      const spec: StepSpec = { pgdSteps, eps: EPS, stepSize: STEP, defense: i % HYPERNET.numDefenses };
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const { grads } = await dp.gradients(batch.x, batch.y, batch.start, spec);
      await opt.apply(grads, 1e-4);
      tf.dispose(Object.values(grads));
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (i >= o.warmup) {
        times.push(ms);
        cpuTimes.push((c.user + c.system) / 1000);
      }
      o.log?.(`  ${method}${pgdSteps ? ` PGD-${pgdSteps}` : " clean"} step ${i + 1}/${o.warmup + o.iters}: ${ms.toFixed(0)} ms${i < o.warmup ? " (warm-up)" : ""}`);
    }
  } finally {
    tf.dispose([batch.x, batch.y, batch.start]);
    opt.dispose();
    await dp.close();
    disposeModel(model);
  }
  return { wall: median(times), cpu: median(cpuTimes) };
}

export async function runBench(o: BenchOptions): Promise<BenchResult> {
  let workers = 1;
  const seen = (n: number) => (workers = n);
  const train = await timeSteps("full-at", 0, o, seen);
  const adv = await timeSteps("full-at", o.pgdSteps, o, seen);
  const lora = await timeSteps("lora-at", o.pgdSteps, o, seen);
  const hyper = await timeSteps("hyperat", o.pgdSteps, o, seen);
  const [trainStepMs, advStepMs, loraAtStepMs, hyperatStepMs] = [train.wall, adv.wall, lora.wall, hyper.wall];
  const flops = stepFlops(o.vit, o.batch, o.pgdSteps, LORA.rank);
  const rate = (f: number, ms: number) => Math.round((f / ms / 1e6) * 10) / 10;
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return {
    trainStepMs: r1(trainStepMs),
    advStepMs: r1(advStepMs),
    hyperatStepMs: r1(hyperatStepMs),
    loraAtStepMs: r1(loraAtStepMs),
    imagesPerSecond: Math.round((o.batch / advStepMs) * 1000 * 100) / 100,
    peakRssBytes: peakRssBytes(),
    backend: tf.getBackend(),
    workers,
    cpuMs: { trainStep: r1(train.cpu), advStep: r1(adv.cpu), loraAtStep: r1(lora.cpu), hyperatStep: r1(hyper.cpu) },
    gflops: {
      trainStep: rate(flops.trainStep, trainStepMs),
      advStep: rate(flops.advStep, advStepMs),
      loraAtStep: rate(flops.loraAtStep, loraAtStepMs),
      hyperatStep: rate(flops.hyperatStep, hyperatStepMs),
    },
    flops,
  };
}
