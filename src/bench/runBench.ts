import * as tf from "@tensorflow/tfjs";
import { ViTConfig } from "../core/model/config";
import { initParams, disposeParams } from "../core/model/params";
import type { RunConfig } from "../core/config/types";
import { validateConfig } from "../core/config/validate";
import { buildTrainer } from "../core/train/build";
import type { StepResult } from "../core/train/trainer";
import { Rng } from "../core/rng";
import { resolveWorkers, WorkersOption } from "../daemon/parallel/workerCount";
import { TrainerWorkers } from "../daemon/parallel/trainerParallel";
import type { BackendName, BackendRequest } from "../core/backend/names";
import { activeBackend } from "../core/backend/select";
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

type Method = RunConfig["method"];

/**
 * The config of one timed step, as a user would write it: the schema defaults (HYPERAT.md: LoRA
 * r = 8, alpha 16 on qkv/proj/fc1/fc2; hypernetwork K = 3, d_e 32, hidden 128, d_z 32; eps 8/255,
 * PGD step 2/255; AdamW with gradient clipping) for `method`. full-at and lora-at train PGD-AT;
 * hyperat the default defenses (PGD-AT, TRADES, MART), sampled per step as in a run.
 * `pgdSteps` 0 (the clean step) is set after validation: runs ask for ≥ 1 attack iteration, the
 * bench wants the step without the attack as its baseline (only the random start is drawn).
 */
export function benchConfig(method: Method, pgdSteps: number, batch: number, workers: number): RunConfig {
  const cfg = validateConfig({
    seed: 1,
    method,
    ...(method === "hyperat" ? {} : { defenses: [{ name: "pgd-at" }] }),
    attack: { steps: Math.max(1, pgdSteps) },
    training: { steps: 1000, batchSize: batch, microBatchSize: batch, workers },
  });
  cfg.attack.steps = pgdSteps;
  return cfg;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Peak resident set of this process (worker threads included), in bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A fixed batch: pixels in [0,1] and labels (the attack draws its own random start). */
function makeBatch(vit: ViTConfig, batch: number, seed: number) {
  const rng = Rng.fromSeed(seed, "bench-batch");
  const n = batch * vit.imgSize * vit.imgSize * vit.inChans;
  const x = tf.tensor4d(rng.fillUniform(n, 0, 1), [batch, vit.imgSize, vit.imgSize, vit.inChans]);
  const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(vit.numClasses)), "int32");
  return { x, y };
}

/**
 * Median wall-clock ms of `iters` steps after `warmup` steps of the real Trainer built from
 * `benchConfig` (src/core/train/build.ts) on a random backbone: its craft + loss + backward
 * (src/core/parallel/trainShard.ts) and its AdamW update, over `training.workers` threads
 * through TrainerWorkers as the daemon's session runs it (src/daemon/engine/trainSession.ts).
 */
async function timeSteps(method: Method, pgdSteps: number, o: BenchOptions, onWorkers: (n: number) => void): Promise<{ wall: number; cpu: number }> {
  const backendName: BackendName | undefined = o.backend === "auto" ? activeBackend()?.backend : o.backend;
  const workers = resolveWorkers(o.workers, backendName);
  const cfg = benchConfig(method, pgdSteps, o.batch, workers);
  const backbone = initParams(o.vit, cfg.seed);
  const trainer = buildTrainer(cfg, o.vit, backbone);
  let parallel: TrainerWorkers | undefined;
  const batch = makeBatch(o.vit, o.batch, 7);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  try {
    parallel = workers > 1 ? await TrainerWorkers.create(cfg, o.vit, backbone, trainer, { workers, backend: o.backend }) : undefined;
    onWorkers(workers);
    const step = (x: tf.Tensor4D, y: tf.Tensor1D): Promise<StepResult> => (parallel ? parallel.step(x, y) : trainer.trainStep(x, y));
    for (let i = 0; i < o.warmup + o.iters; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await step(batch.x, batch.y);
      const ms = performance.now() - t0;
      const c = process.cpuUsage(c0);
      if (i >= o.warmup) {
        times.push(ms);
        cpuTimes.push((c.user + c.system) / 1000);
      }
      const what = method === "hyperat" ? `hyperat (${r.defense})` : method;
      o.log?.(`  ${what}${pgdSteps ? ` PGD-${pgdSteps}` : " clean"} step ${i + 1}/${o.warmup + o.iters}: ${ms.toFixed(0)} ms${i < o.warmup ? " (warm-up)" : ""}`);
    }
  } finally {
    tf.dispose([batch.x, batch.y]);
    await parallel?.close();
    trainer.dispose();
    trainer.args.tunable.dispose();
    disposeParams(backbone);
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
  const flops = stepFlops(o.vit, o.batch, o.pgdSteps, benchConfig("lora-at", o.pgdSteps, o.batch, 1).lora.rank);
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
