// Runs HyperAT's FGSM, PGD, CW-inf, APGD-CE, APGD-T and Square (src/core/attacks/) on seeded toy
// classifiers that PyTorch rebuilds exactly (a linear softmax classifier and a ReLU MLP on uniform
// 8×8×3 inputs, labels = the model's own predictions), and writes everything
// bench/attack_reference.py needs to run the independent implementations (torchattacks' FGSM, PGD
// and UPGD; AutoAttack's APGDAttack, APGDAttack_targeted and SquareAttack) on the same functions:
//   - deterministic runs (FGSM; PGD and CW-inf without random start; one APGD-CE and one APGD-T run
//     from a start both sides build from the same uniform draw t): every input the model was asked
//     about, in order, so the two trajectories can be compared iterate by iterate;
//   - seeded runs with each side's own randomness (PGD/CW random start, full APGD-CE/APGD-T with
//     survivors, Square): per-sample broken flags and, for Square, per-sample query counts.
// Binary arrays are little-endian float32 files next to attref.json, laid out [B, H, W, C].
//   npx tsx bench/attack_reference.ts --out /tmp/attref [--n 200] [--seeds 3] [--queries 1000]
//       [--compare --autoattack DIR --torchattacks DIR [--python /usr/bin/python3]]
// With --compare it then runs bench/attack_reference.py on the folder (one command end to end).
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { fgsm } from "../src/core/attacks/fgsm";
import { pgd, pgdLastIterate } from "../src/core/attacks/pgd";
import { cwInf } from "../src/core/attacks/cw";
import { apgd, apgdRun, apgdT } from "../src/core/attacks/apgd";
import { square } from "../src/core/attacks/square";
import { crossEntropy, misclassified, targetedDlrLoss } from "../src/core/attacks/losses";
import type { Classifier } from "../src/core/attacks/types";
import { Rng } from "../src/core/rng";
import { randomLayers } from "./toyLayers";

const H = 8;
const W = 8;
const C = 3;
const D = H * W * C;
const K = 10;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Weights as row-major arrays, so that PyTorch computes flatten_NHWC(x)·W + b with the same numbers. */
interface ModelSpec {
  name: string;
  kind: "linear" | "mlp";
  /** L-inf radius chosen so that robust accuracy lands mid-range for the gradient attacks. */
  eps: number;
  layers: { w: number[]; b: number[]; rows: number; cols: number }[];
  labels?: number[];
}

function makeSpec(kind: ModelSpec["kind"], seed: number, eps: number): ModelSpec {
  const rng = Rng.fromSeed(seed, `attref-${kind}`);
  const dims = kind === "linear" ? [D, K] : [D, 64, K];
  return { name: `${kind}-seed${seed}`, kind, eps, layers: randomLayers(rng, dims) };
}

function toClassifier(spec: ModelSpec): { model: Classifier; dispose: () => void } {
  const ws = spec.layers.map((l) => tf.tensor2d(l.w, [l.rows, l.cols]));
  const bs = spec.layers.map((l) => tf.tensor1d(l.b));
  const model: Classifier = (x) =>
    tf.tidy(() => {
      let h: tf.Tensor2D = tf.reshape(x, [x.shape[0], D]);
      ws.forEach((w, i) => {
        h = tf.add(tf.matMul(h, w), bs[i]);
        if (i + 1 < ws.length) h = tf.relu(h);
      });
      return h;
    });
  return { model, dispose: () => tf.dispose([...ws, ...bs]) };
}

/** The same classifier, copying every input it is asked about (the attack's trajectory) into `log`. */
function recording(model: Classifier, log: Float32Array[]): Classifier {
  return (x) => {
    log.push(Float32Array.from(x.dataSync() as Float32Array));
    return model(x);
  };
}

/** The same classifier, noting the batch size of every call (Square asks only about robust images). */
function counting(model: Classifier, sizes: number[]): Classifier {
  return (x) => {
    sizes.push(x.shape[0]);
    return model(x);
  };
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  fs.writeFileSync(`${file}.tmp`, data);
  fs.renameSync(`${file}.tmp`, file);
}

/** Writes arrays back to back as one float32 file; returns its name relative to the output folder. */
function writeF32(out: string, name: string, arrays: Float32Array[]): string {
  const total = arrays.reduce((a, b) => a + b.length, 0);
  const all = new Float32Array(total);
  let o = 0;
  for (const a of arrays) {
    all.set(a, o);
    o += a.length;
  }
  const rel = path.join("bin", `${name}.f32`);
  writeAtomic(path.join(out, rel), new Uint8Array(all.buffer));
  return rel;
}

async function brokenFlags(model: Classifier, adv: tf.Tensor4D, y: tf.Tensor1D): Promise<boolean[]> {
  const f = tf.tidy(() => misclassified(model(adv), y));
  const v = Array.from(await f.data(), (b) => b === 1);
  f.dispose();
  return v;
}

/**
 * Per-sample Square query counts from the batch sizes the model saw. Square drops an image once it
 * is fooled, so n_t − n_{t+1} images stopped after proposal t; AutoAttack counts 1 (the stripes)
 * plus one per proposal an image took part in. Calls: stripes (B), proposals, then 2 evaluations.
 */
function squareQueries(sizes: number[], B: number, robustAtEnd: number): number[] {
  const proposals = sizes.slice(1, sizes.length - 2);
  const q: number[] = [];
  let alive = B;
  proposals.forEach((n, t) => {
    for (let i = 0; i < alive - n; i++) q.push(t + 1);
    alive = n;
  });
  const lastFooled = alive - robustAtEnd;
  for (let i = 0; i < lastFooled; i++) q.push(proposals.length + 1);
  return q;
}

interface Run {
  id: string;
  model: string;
  attack: string;
  seed?: number;
  settings: Record<string, number | string | boolean>;
  flags: boolean[];
  seconds: number;
  adv?: string;
  trace?: string;
  traceCount?: number;
  start?: string;
  queries?: number[];
}

async function main(): Promise<void> {
  const out = flag("--out");
  if (!out) throw new Error("usage: attack_reference.ts --out DIR [--n 200] [--seeds 3] [--queries 1000] [--compare --autoattack DIR --torchattacks DIR]");
  const n = Number(flag("--n") ?? 200);
  const seeds = Number(flag("--seeds") ?? 3);
  const queries = Number(flag("--queries") ?? 1000);
  await selectBackend("cpu");
  fs.mkdirSync(path.join(out, "bin"), { recursive: true });
  const xs = Rng.fromSeed(3, "attref-images").fillUniform(n * D, 0, 1);
  const specs = [makeSpec("linear", 1, 0.01), makeSpec("mlp", 2, 0.02)];
  const runs: Run[] = [];
  const x = tf.tensor4d(xs, [n, H, W, C]);
  for (const spec of specs) {
    const { model, dispose } = toClassifier(spec);
    const y = tf.tidy(() => tf.argMax(model(x), 1) as tf.Tensor1D);
    spec.labels = Array.from((await y.data()) as Int32Array);
    const eps = spec.eps;
    const timed = async (id: string, attack: string, settings: Run["settings"], go: () => Promise<tf.Tensor4D>, extra: Partial<Run> = {}) => {
      const t0 = Date.now();
      const adv = await go();
      const seconds = (Date.now() - t0) / 1000;
      const flags = await brokenFlags(model, adv, y);
      const run: Run = { id: `${spec.kind}-${id}`, model: spec.name, attack, settings, flags, seconds, ...extra };
      if (extra.adv === undefined && !("seed" in extra)) run.adv = writeF32(out, `${run.id}.adv`, [Float32Array.from(await adv.data())]);
      adv.dispose();
      runs.push(run);
      console.log(`${run.id}: robust ${(100 * (1 - flags.filter(Boolean).length / n)).toFixed(1)} % (${seconds.toFixed(1)} s)`);
      return run;
    };

    // Deterministic: no random start, so both sides walk the same iterates.
    await timed("fgsm", "fgsm", { eps }, async () => fgsm(model, x, y, { eps }));
    for (const [attack, loss] of [["pgd", "ce"], ["cw", "margin"]] as const) {
      const log: Float32Array[] = [];
      const settings = { eps, steps: 20, stepSize: eps / 4, randomStart: false, loss };
      const last = await timed(`${attack}-det-last`, attack, { ...settings, keep: "last" }, async () =>
        pgdLastIterate(recording(model, log), x, y, { eps, steps: 20, stepSize: eps / 4, randomStart: false, loss }),
      );
      last.trace = writeF32(out, `${last.id}.trace`, log);
      last.traceCount = log.length;
      await timed(`${attack}-det-best`, attack, { ...settings, keep: "best" }, async () =>
        pgd(model, x, y, { eps, steps: 20, stepSize: eps / 4, randomStart: false, loss, keep: "best" }),
      );
    }
    // APGD from a start both sides build from t: apgdRun's first draw is t ~ U(−1,1)^(B·D) (apgd.ts randomStart).
    const targetCases = [
      { id: "apgd-ce-det", attack: "apgd-ce", target: 0 },
      { id: "apgd-t-det", attack: "apgd-t", target: 1 },
    ];
    for (const c of targetCases) {
      const stream = `attref-${c.id}-start`;
      const t = Rng.fromSeed(0, stream).fillUniform(n * D, -1, 1);
      const log: Float32Array[] = [];
      let fooled: boolean[] = [];
      const target = c.target > 0 ? tf.tidy(() => tf.reshape(tf.slice(tf.topk(model(x), c.target + 1).indices, [0, c.target], [-1, 1]), [-1]) as tf.Tensor1D) : undefined;
      const loss = target ? targetedDlrLoss(target) : crossEntropy;
      const run = await timed(c.id, c.attack, { eps, steps: 100, targetRank: c.target + 1 }, async () => {
        const best = await apgdRun(recording(model, log), x, y, loss, { eps, steps: 100, rng: Rng.fromSeed(0, stream) });
        fooled = await best.fooledFlags();
        return best.take();
      });
      target?.dispose();
      // The attack's own verdict (any iterate misclassified), the same as flags since x' is the best point.
      run.settings.fooledMatchesFlags = fooled.every((f, i) => f === run.flags[i]);
      run.start = writeF32(out, `${run.id}.t`, [t]);
      run.trace = writeF32(out, `${run.id}.trace`, log);
      run.traceCount = log.length;
    }

    // Seeded: each side draws its own random numbers; only statistics over seeds compare.
    for (let s = 0; s < seeds; s++) {
      const rng = (name: string) => Rng.fromSeed(s, `attref-${name}`);
      await timed(`pgd-rand-best-s${s}`, "pgd", { eps, steps: 20, stepSize: eps / 4, keep: "best" }, async () =>
        pgd(model, x, y, { eps, steps: 20, rng: rng("pgd") }), { seed: s });
      await timed(`pgd-rand-last-s${s}`, "pgd", { eps, steps: 20, stepSize: eps / 4, keep: "last" }, async () =>
        pgdLastIterate(model, x, y, { eps, steps: 20, rng: rng("pgd-last") }), { seed: s });
      await timed(`cw-rand-best-s${s}`, "cw", { eps, steps: 20, stepSize: eps / 4, keep: "best" }, async () =>
        cwInf(model, x, y, { eps, steps: 20, rng: rng("cw") }), { seed: s });
      await timed(`apgd-ce-s${s}`, "apgd-ce", { eps, steps: 100, restarts: 1 }, async () =>
        apgd(model, x, y, { eps, steps: 100, rng: rng("apgd-ce") }), { seed: s });
      await timed(`apgd-t-s${s}`, "apgd-t", { eps, steps: 100, targets: 9 }, async () =>
        apgdT(model, x, y, { eps, steps: 100, targets: 9, rng: rng("apgd-t") }), { seed: s });
      const sizes: number[] = [];
      const sq = await timed(`square-s${s}`, "square", { eps, queries, pInit: 0.8, loss: "margin" }, async () =>
        square(counting(model, sizes), x, y, { eps, queries, rng: rng("square") }), { seed: s });
      sq.queries = squareQueries(sizes, n, sq.flags.filter((f) => !f).length);
    }
    tf.dispose([y]);
    dispose();
  }
  x.dispose();
  const file = path.join(out, "attref.json");
  writeAtomic(file, JSON.stringify({ shape: [n, H, W, C], classes: K, x: writeF32(out, "x", [xs]), models: specs, runs, tfjs: tf.version_core }));
  console.log(`wrote ${file}`);

  if (process.argv.includes("--compare")) {
    const python = flag("--python") ?? "/usr/bin/python3";
    const args = [path.join(__dirname, "attack_reference.py"), "--in", out];
    for (const f of ["--autoattack", "--torchattacks"]) if (flag(f)) args.push(f, flag(f)!);
    const r = spawnSync(python, args, { stdio: "inherit", env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" } });
    if (r.status !== 0) throw new Error(`${python} bench/attack_reference.py exited with ${r.status ?? r.signal}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
