// Runs HyperAT's FAB-T (src/core/attacks/fab.ts) on seeded toy classifiers that PyTorch can rebuild
// exactly (a linear softmax classifier, a 2-layer ReLU MLP and a sine network, whose oscillating
// landscape gives random restarts something to find, on uniform inputs in [0,1]^48), and
// writes weights, inputs, labels and our adversarial points as JSON for bench/fab_reference.py to
// run AutoAttack's FABAttack_PT (targeted, L-inf) on the same function and compare. Also writes
// random box-constrained hyperplane problems with our projection (fabProjection.ts) for the
// reference's `projection_linf`. Each model runs at eps 0.03 with 1 and 3 restarts, and once at
// eps 1 (every closest point counts, so the minimal norms of all samples can be compared).
//   npx tsx bench/fab_reference.ts --out /tmp/fabref [--n 200] [--restarts 1,3]
//   /usr/bin/python3 bench/fab_reference.py --in /tmp/fabref --autoattack /tmp/autoattack
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { fabT } from "../src/core/attacks/fab";
import { projectLinfHyperplane } from "../src/core/attacks/fabProjection";
import type { Classifier } from "../src/core/attacks/types";
import { Rng } from "../src/core/rng";
import { randomLayers } from "./toyLayers";

const H = 4;
const W = 4;
const C = 3;
const D = H * W * C;
const K = 10;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** Weights as row-major arrays, so that PyTorch computes x·W + b with the same numbers. */
interface ModelSpec {
  name: string;
  kind: "linear" | "mlp" | "sine";
  eps: number;
  layers: { w: number[]; b: number[]; rows: number; cols: number }[];
}

/** Frequency of the sine network's hidden layer: high enough that the loss oscillates within eps. */
const OMEGA = 5;

function makeSpec(kind: ModelSpec["kind"], seed: number, eps: number): ModelSpec {
  const rng = Rng.fromSeed(seed, `fabref-${kind}`);
  const dims = kind === "linear" ? [D, K] : [D, 32, K];
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
        if (i + 1 < ws.length) h = spec.kind === "sine" ? (tf.sin(tf.mul(h, OMEGA)) as tf.Tensor2D) : tf.relu(h);
      });
      return h;
    });
  return { model, dispose: () => tf.dispose([...ws, ...bs]) };
}

/** Random problems t ∈ [0,1]^D, w ~ N(0,1) with some zeros, b between w·t and the box corner's reach. */
function projectionCases(count: number): { t: number[]; w: number[]; b: number; d: number[] }[] {
  const rng = Rng.fromSeed(11, "fabref-projection");
  return Array.from({ length: count }, () => {
    const t = rng.fillUniform(D, 0, 1);
    const w = rng.fillNormal(D, 1);
    for (let i = 0; i < D; i++) if (rng.next() < 0.1) w[i] = 0;
    let wt = 0;
    for (let i = 0; i < D; i++) wt += w[i] * t[i];
    const b = wt + rng.uniform(-4, 4);
    return { t: Array.from(t), w: Array.from(w), b, d: Array.from(projectLinfHyperplane(t, w, b)) };
  });
}

async function main(): Promise<void> {
  const out = flag("--out");
  if (!out) throw new Error("usage: fab_reference.ts --out DIR [--n 200] [--steps 100] [--restarts 1,3]");
  const n = Number(flag("--n") ?? 200);
  const steps = Number(flag("--steps") ?? 100);
  const restartList = (flag("--restarts") ?? "1,3").split(",").map(Number);
  await selectBackend("cpu");
  fs.mkdirSync(out, { recursive: true });
  const xs = Rng.fromSeed(3, "fabref-images").fillUniform(n * D, 0, 1);
  const specs = [makeSpec("linear", 1, 0.03), makeSpec("mlp", 2, 0.03), makeSpec("sine", 4, 0.03)];
  const runs = [];
  for (const spec of specs) {
    const { model, dispose } = toClassifier(spec);
    const x = tf.tensor4d(xs, [n, H, W, C]);
    const yT = tf.tidy(() => tf.argMax(model(x), 1) as tf.Tensor1D);
    const labels = Array.from((await yT.data()) as Int32Array);
    const settings = [...restartList.map((restarts) => ({ eps: spec.eps, restarts })), { eps: 1, restarts: 1 }];
    for (const { eps, restarts } of settings) {
      const t0 = Date.now();
      const adv = await fabT(model, x, yT, { eps, steps, restarts, targets: 9, rng: Rng.fromSeed(0, "fabref-attack") });
      const seconds = (Date.now() - t0) / 1000;
      runs.push({ model: spec.name, eps, restarts, steps, seconds, adv: Array.from(await adv.data()) });
      console.log(`${spec.name} eps ${eps} restarts ${restarts}: ${seconds.toFixed(1)} s`);
      adv.dispose();
    }
    tf.dispose([x, yT]);
    dispose();
    (spec as ModelSpec & { labels?: number[] }).labels = labels;
  }
  const file = path.join(out, "fab_ours.json");
  const body = JSON.stringify({ shape: [n, H, W, C], classes: K, x: Array.from(xs), models: specs, runs, projection: projectionCases(200) });
  fs.writeFileSync(`${file}.tmp`, body);
  fs.renameSync(`${file}.tmp`, file);
  console.log(`wrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
