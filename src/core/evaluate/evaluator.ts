/**
 * Robust evaluation as AutoAttack runs it (Croce & Hein 2020, `autoattack.py`): attacks run in
 * order, each only on the samples still robust after the previous ones, and a sample counts as
 * robust only if every attack fails on it (per-sample worst case — RobustBench's number).
 *
 * `robustAccuracy[a]` is CUMULATIVE: the fraction of all n samples still robust after attack `a`
 * and every attack before it (what AutoAttack prints after each attack), so it never increases
 * along the list and its last entry equals `worstCaseRobustAccuracy`. With `perAttack: true`
 * every attack also runs on all clean-correct samples and `perAttackRobustAccuracy[a]` is its
 * stand-alone robust accuracy (costs more; the worst case is the same).
 * Randomness: sample i draws from its own stream `Rng.fromSeed(seed, "eval:<a>:<i>")` under
 * attack `a` (src/core/attacks/attackRng.ts), and every attack decides per sample, so results
 * depend only on the seed and the attack list, never on the batch size: a batch that does not fit
 * can be planned down without changing the report.
 */
import * as tf from "@tensorflow/tfjs";
import { readAndDispose, readScalar } from "../tensorRead";
import type { Classifier } from "../attacks/types";
import { SampleStreams } from "../attacks/attackRng";
import { AttackRunner, resolveAttack } from "../attacks/registry";
import { Eps, parseEps } from "./eps";
import { PixelArray, copyPixels } from "../data/types";
import { blackBoxBeatsWhiteBoxWarning, probabilityOutputsWarning, randomnessWarning, zeroGradientWarning } from "./checks";
import { EvaluationCancelledError } from "./evaluationCancelledError";

export { EvaluationCancelledError };

/** Labelled images, NHWC in [0,1] (float32, or uint8 of value·255; a `Dataset` fits). */
export interface EvalData {
  images: PixelArray;
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
}

export interface EvalProgress {
  /** Attack running now, or "clean" for the clean pass. */
  attack: string;
  /** Samples of this phase done / to do. */
  done: number;
  total: number;
  message: string;
}

export interface EvaluateOptions {
  /** Attack names (see attacks/registry.ts) or runners, in the order they run. */
  attacks: Array<string | AttackRunner>;
  /** "8/255", 0.031, or a parsed Eps. */
  eps: string | number | Eps;
  /** Default 0. */
  seed?: number;
  /** Samples per attack call; default 64. */
  batchSize?: number;
  /** Evaluate the first n samples only; default all. */
  n?: number;
  /** Include one record per sample in the result. */
  perSample?: boolean;
  /** Also run every attack on all clean-correct samples for stand-alone numbers. */
  perAttack?: boolean;
  /** Keep the first `examples` samples' adversarial images (the dashboard's example strip). */
  examples?: number;
  /** Gradient-masking pre-flight checks on the first batch; default true. */
  checks?: boolean;
  onProgress?: (p: EvalProgress) => void;
  /** Checked between batches; an aborted signal throws EvaluationCancelledError. */
  signal?: { readonly aborted: boolean };
  /** Recorded in the result; default tf.getBackend(). */
  backend?: string;
  /** Recorded in the result, merged over { tfjs }. */
  versions?: Record<string, string>;
}

export interface AttackSummary {
  name: string;
  description: string;
  usesGradients: boolean;
  settings: Record<string, number | string | boolean>;
  /** Samples this attack ran on and how many it broke. */
  attacked: number;
  broken: number;
  seconds: number;
}

export interface SampleRecord {
  index: number;
  label: number;
  cleanPred: number;
  cleanLogits: number[];
  /** Cumulative: still robust after this attack and all before it (false if misclassified clean). */
  robust: Record<string, boolean>;
  worstCaseRobust: boolean;
  /** "clean" if misclassified without attack, else the first attack that broke it, else null. */
  brokenBy: string | null;
}

/**
 * The first k samples as the attacks left them: for a sample an attack broke, that attack's
 * image; for one no attack broke, the last attack's attempt; for one misclassified without
 * attack, the clean image itself. Images NHWC in [0,1], like EvalData's.
 */
export interface EvalExamples {
  /** Sample indices 0..k-1 into the evaluated data. */
  indices: number[];
  height: number;
  width: number;
  adversarial: Float32Array;
  cleanPred: number[];
  /** The model's prediction on each adversarial image. */
  advPred: number[];
  /** As SampleRecord.brokenBy: "clean", the first attack that broke it, or null. */
  brokenBy: Array<string | null>;
}

export interface EvalResult {
  cleanAccuracy: number;
  /** Cumulative robust accuracy after each attack, in run order (see the file comment). */
  robustAccuracy: Record<string, number>;
  perAttackRobustAccuracy?: Record<string, number>;
  worstCaseRobustAccuracy: number;
  n: number;
  threatModel: { norm: "Linf"; eps: string };
  epsValue: number;
  seed: number;
  batchSize: number;
  backend: string;
  versions: Record<string, string>;
  seconds: number;
  attacks: AttackSummary[];
  warnings: string[];
  samples?: SampleRecord[];
  /** With `examples` > 0; plain data (a worker posts it back). */
  examples?: EvalExamples;
}


const BALL_TOLERANCE = 1e-5;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function evaluate(model: Classifier, data: EvalData, opts: EvaluateOptions): Promise<EvalResult> {
  const t0 = Date.now();
  const eps = parseEps(opts.eps);
  const seed = opts.seed ?? 0;
  const batchSize = opts.batchSize ?? 64;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`evaluate: batchSize must be an integer ≥ 1, got ${batchSize}`);
  const n = Math.min(opts.n ?? data.n, data.n);
  if (!(n >= 1)) throw new Error(`evaluate: nothing to evaluate (n = ${n}, dataset has ${data.n} samples)`);
  const runners = opts.attacks.map((a) => (typeof a === "string" ? resolveAttack(a) : a));
  const names = runners.map((r) => r.name);
  if (new Set(names).size !== names.length) throw new Error(`evaluate: attack list has duplicates: ${names.join(", ")}`);
  const size = data.height * data.width * 3;
  const batch = (idx: number[]) => ({
    x: tf.tensor4d(gatherImages(data.images, idx, size), [idx.length, data.height, data.width, 3]),
    y: tf.tensor1d(idx.map((i) => data.labels[i]), "int32"),
  });
  const progress = (attack: string, done: number, total: number, message: string) =>
    opts.onProgress?.({ attack, done, total, message });
  const checkCancel = async (attack: string) => {
    await yieldToEventLoop();
    if (opts.signal?.aborted) throw new EvaluationCancelledError(attack);
  };

  // Clean pass.
  const all = Array.from({ length: n }, (_, i) => i);
  const cleanPred = new Int32Array(n);
  const cleanLogits: number[][] = [];
  const warnings: string[] = [];
  let classes = 0;
  for (const idx of chunks(all, batchSize)) {
    await checkCancel("clean");
    const { x, y } = batch(idx);
    const logits = tf.tidy(() => model(x));
    classes = logits.shape[1];
    const values = (await logits.data()) as Float32Array;
    const preds = await readAndDispose(tf.tidy(() => tf.argMax(logits, 1)));
    idx.forEach((i, j) => {
      cleanPred[i] = preds[j];
      if (opts.perSample) cleanLogits[i] = Array.from(values.subarray(j * classes, (j + 1) * classes));
    });
    if (idx[0] === 0 && (opts.checks ?? true)) {
      for (const w of [probabilityOutputsWarning(values, idx.length, classes), await zeroGradientWarning(model, x, y), await randomnessWarning(model, x)]) {
        if (w) warnings.push(w);
      }
    }
    tf.dispose([x, y, logits]);
    progress("clean", Math.min(idx[idx.length - 1] + 1, n), n, "clean accuracy");
  }
  const correct = all.map((i) => cleanPred[i] === data.labels[i]);
  const keep = Math.min(Math.max(0, Math.floor(opts.examples ?? 0)), n);
  const examples: EvalExamples | undefined = keep > 0
    ? { indices: all.slice(0, keep), height: data.height, width: data.width, adversarial: gatherImages(data.images, all.slice(0, keep), size), cleanPred: Array.from(cleanPred.subarray(0, keep)), advPred: Array.from(cleanPred.subarray(0, keep)), brokenBy: [] }
    : undefined;
  const robustNow = correct.slice();
  const brokenBy: Array<string | null> = all.map((i) => (correct[i] ? null : "clean"));
  const cumulative: Record<string, boolean[]> = {};
  const robustAccuracy: Record<string, number> = {};
  const perAttack: Record<string, number> = {};
  const summaries: AttackSummary[] = [];
  const gradientAttacksSoFar: string[] = [];

  for (const runner of runners) {
    const ta = Date.now();
    const targets = all.filter((i) => (opts.perAttack ? correct[i] : robustNow[i]));
    const brokenHere = new Set<number>();
    let done = 0;
    progress(runner.name, 0, targets.length, `${runner.description} on ${targets.length} samples`);
    for (const idx of chunks(targets, batchSize)) {
      await checkCancel(runner.name);
      const { x, y } = batch(idx);
      const xAdv = await runner.run(model, x, y, { eps: eps.value, rng: SampleStreams.forSamples(seed, runner.name, idx) });
      const advPred = (await readAndDispose(tf.tidy(() => tf.argMax(model(xAdv), 1)))) as Int32Array;
      const linf = await readScalar(tf.tidy(() => tf.max(tf.abs(tf.sub(xAdv, x)))));
      const fooled = idx.map((i, j) => advPred[j] !== data.labels[i]);
      if (examples && idx[0] < keep) {
        // Survivors are attacked in index order, so the kept samples sit at the batch's start.
        const pixels = (await xAdv.data()) as Float32Array;
        idx.forEach((i, j) => {
          // With perAttack a later attack reruns on broken samples: keep the breaking image.
          if (i >= keep || !robustNow[i]) return;
          examples.adversarial.set(pixels.subarray(j * size, (j + 1) * size), i * size);
          examples.advPred[i] = advPred[j];
        });
      }
      tf.dispose([x, y, xAdv]);
      // AutoAttack checks this too: a point outside the threat model would void the number.
      if (linf > eps.value + BALL_TOLERANCE) throw new Error(`attack ${runner.name} returned a point ${linf} from x, outside eps = ${eps.text}`);
      idx.forEach((i, j) => {
        if (fooled[j]) brokenHere.add(i);
      });
      done += idx.length;
      progress(runner.name, done, targets.length, `${brokenHere.size} broken so far`);
    }
    const survivorsBefore = all.filter((i) => robustNow[i]);
    for (const i of brokenHere) {
      if (robustNow[i]) {
        robustNow[i] = false;
        brokenBy[i] = runner.name;
      }
    }
    cumulative[runner.name] = robustNow.slice();
    robustAccuracy[runner.name] = count(robustNow) / n;
    if (opts.perAttack) perAttack[runner.name] = (count(correct) - brokenHere.size) / n;
    const newlyBroken = survivorsBefore.filter((i) => brokenHere.has(i)).length;
    if (!runner.usesGradients) {
      const w = blackBoxBeatsWhiteBoxWarning(runner.name, newlyBroken, survivorsBefore.length, gradientAttacksSoFar);
      if (w) warnings.push(w);
    } else gradientAttacksSoFar.push(runner.name);
    summaries.push({
      name: runner.name,
      description: runner.description,
      usesGradients: runner.usesGradients,
      settings: runner.settings,
      attacked: targets.length,
      broken: brokenHere.size,
      seconds: (Date.now() - ta) / 1000,
    });
  }

  const result: EvalResult = {
    cleanAccuracy: count(correct) / n,
    robustAccuracy,
    ...(opts.perAttack ? { perAttackRobustAccuracy: perAttack } : {}),
    worstCaseRobustAccuracy: count(robustNow) / n,
    n,
    threatModel: { norm: "Linf", eps: eps.text },
    epsValue: eps.value,
    seed,
    batchSize,
    backend: opts.backend ?? tf.getBackend(),
    versions: { tfjs: tf.version.tfjs, ...opts.versions },
    seconds: (Date.now() - t0) / 1000,
    attacks: summaries,
    warnings,
    ...(examples ? { examples: { ...examples, brokenBy: brokenBy.slice(0, keep) } } : {}),
  };
  if (opts.perSample) {
    result.samples = all.map((i) => ({
      index: i,
      label: data.labels[i],
      cleanPred: cleanPred[i],
      cleanLogits: cleanLogits[i],
      robust: Object.fromEntries(names.map((a) => [a, cumulative[a][i]])),
      worstCaseRobust: robustNow[i],
      brokenBy: brokenBy[i],
    }));
  }
  return result;
}

function count(flags: boolean[]): number {
  return flags.reduce((s, f) => s + (f ? 1 : 0), 0);
}

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let s = 0; s < items.length; s += size) yield items.slice(s, s + size);
}

function gatherImages(images: PixelArray, idx: number[], size: number): Float32Array {
  const out = new Float32Array(idx.length * size);
  idx.forEach((i, k) => copyPixels(images, i * size, (i + 1) * size, out, k * size));
  return out;
}
