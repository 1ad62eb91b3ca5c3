// The engine on webgpu against the cpu backend (issue 11 "Done means"): ViT forward and
// gradients, the evaluator's attacks, one trainer step per defense and method, adaptive merge,
// a resized model, and timm's fixture. Tolerance 1e-5 relative (float32 with a different
// summation order per kernel gives ~1e-6); where looser, the test says why. Plus a leak test.
// Runs on Mesa's lavapipe anywhere (webgpuHarness.ts: required when CI=true).
import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { validateConfig } from "../../../src/core/config/validate";
import { buildTrainer } from "../../../src/core/train/build";
import { adaptiveMerge } from "../../../src/core/train/adaptiveMerge";
import { disposeLora, ownedLora } from "../../../src/core/model/lora";
import { pretrainClean } from "../../../src/core/train/pretrain";
import { forward } from "../../../src/core/model/vit";
import { disposeParams, ParamMap } from "../../../src/core/model/params";
import { loadModelFile } from "../../../src/core/model/modelFile";
import { crossEntropy } from "../../../src/core/attacks/losses";
import { resolveAttack } from "../../../src/core/attacks/registry";
import { Rng } from "../../../src/core/rng";
import { readSafetensorsFile } from "../../../src/core/io/files";
import { tinyConfig, randomParams, randomImages, randomLabels } from "../model/tinyVit";
import { onBoth, Outputs, relativeErrors, take, webgpuUnavailable } from "./webgpuHarness";

const TOL = 1e-5;
const vit = tinyConfig({ imgSize: 16, patchSize: 4, dim: 16, depth: 2, heads: 2, mlpDim: 32, numClasses: 5 });
const fixtureDir = join(__dirname, "..", "..", "fixtures", "timm-vit");

let skip: string | undefined;
before(async () => {
  skip = await webgpuUnavailable();
});

function assertClose(errs: Record<string, number>, tol = TOL, what = ""): void {
  for (const [k, e] of Object.entries(errs)) assert.ok(e <= tol, `${what}${k}: webgpu differs from cpu by ${e.toExponential(2)} relative (tolerance ${tol})`);
}

async function paramsOut(prefix: string, p: Record<string, tf.Tensor>): Promise<Outputs> {
  const out: Outputs = {};
  for (const [k, t] of Object.entries(p)) out[`${prefix}${k}`] = Float32Array.from(await t.data());
  return out;
}

function runConfig(method: string, defenses: string[]) {
  return validateConfig({
    seed: 3,
    method,
    defenses: defenses.map((name) => ({ name })),
    lora: { rank: 2, alpha: 4, targets: ["qkv", "fc1"] },
    hypernet: { embedDim: 4, hiddenDim: 8, latentDim: 4 },
    attack: { eps: "8/255", stepSize: "2/255", steps: 2 },
    optimizer: { lr: 0.01, warmupSteps: 0 },
    training: { steps: 4, batchSize: 4 },
  });
}

describe("webgpu matches cpu", () => {
  test("ViT forward, input gradient and every parameter gradient", async (t) => {
    if (skip) return t.skip(skip);
    const r = await onBoth(async () => {
      const params = randomParams(vit, 1);
      const x = randomImages(vit, 6, 2);
      const y = randomLabels(6, vit.numClasses, 3);
      const logits = tf.tidy(() => forward(vit, params, x));
      const gx = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(crossEntropy(forward(vit, params, xi as tf.Tensor4D), y)))(x));
      const names = Object.keys(params);
      // Parameter gradients through tf.grads over the parameter tensors themselves.
      const pg = tf.tidy(() => tf.grads((...ps: tf.Tensor[]) => {
        const m: ParamMap = Object.fromEntries(names.map((n, i) => [n, ps[i]]));
        return tf.mean(crossEntropy(forward(vit, m, x), y));
      })(names.map((n) => params[n])));
      const out: Outputs = { logits: await take(logits), inputGrad: await take(gx) };
      for (const [i, n] of names.entries()) out[`grad.${n}`] = await take(pg[i]);
      tf.dispose([x, y]);
      disposeParams(params);
      return out;
    });
    const errs = relativeErrors(r);
    t.diagnostic(`max relative error ${Math.max(...Object.values(errs)).toExponential(2)} over ${Object.keys(errs).length} outputs`);
    assertClose(errs);
  });

  for (const name of ["pgd-5", "apgd-ce-5", "apgd-t-2", "cw-3", "square-20", "fgsm"]) {
    test(`attack ${name} returns the same adversarial points`, async (t) => {
      if (skip) return t.skip(skip);
      const r = await onBoth(async () => {
        const params = randomParams(vit, 4, 0.3);
        const x = randomImages(vit, 6, 5);
        const y = randomLabels(6, vit.numClasses, 6);
        const xAdv = await resolveAttack(name).run((xi) => forward(vit, params, xi), x, y, { eps: 8 / 255, rng: Rng.fromSeed(1, name) });
        const out = { xAdv: await take(xAdv) };
        tf.dispose([x, y]);
        disposeParams(params);
        return out;
      });
      // Pixels are in [0,1]; a sign(∇) flip at a near-zero gradient entry would move a pixel by
      // a whole step (2/255), far above this tolerance, so equality here means equal iterates.
      assertClose(relativeErrors(r));
    });
  }

  for (const [method, defenses] of [["hyperat", ["pgd-at"]], ["hyperat", ["trades"]], ["hyperat", ["mart"]], ["lora-at", ["pgd-at"]], ["full-at", ["trades"]]] as const) {
    test(`trainer step: ${method} with ${defenses.join(", ")} (loss, grad norm, updated weights)`, async (t) => {
      if (skip) return t.skip(skip);
      const r = await onBoth(async () => {
        const backbone = randomParams(vit, 7, 0.3);
        const trainer = buildTrainer(runConfig(method, [...defenses]), vit, backbone);
        const out: Outputs = {};
        for (let s = 0; s < 2; s++) {
          const x = randomImages(vit, 4, 10 + s);
          const y = randomLabels(4, vit.numClasses, 20 + s);
          const res = await trainer.trainStep(x, y);
          out[`loss${s}`] = res.loss;
          out[`gradNorm${s}`] = res.gradNorm;
          tf.dispose([x, y]);
        }
        Object.assign(out, await paramsOut("var.", trainer.args.tunable.vars));
        trainer.dispose();
        for (const v of Object.values(trainer.args.tunable.vars)) v.dispose();
        disposeParams(backbone);
        return out;
      });
      const { rest } = splitVars(relativeErrors(r));
      t.diagnostic(`losses and grad norms: max relative error ${Math.max(...Object.values(rest)).toExponential(2)}; ${assertAdamWeights(r, 2 * 0.01)}`);
      assertClose(rest);
    });
  }

  test("adaptive merge: λ after two steps of adversarial CE", async (t) => {
    if (skip) return t.skip(skip);
    const r = await onBoth(async () => {
      const backbone = randomParams(vit, 8, 0.3);
      const trainer = buildTrainer(runConfig("hyperat", ["pgd-at", "trades", "mart"]), vit, backbone);
      const perDefense = [0, 1, 2].map((d) => ownedLora(() => trainer.args.tunable.lora(d)!));
      const x = randomImages(vit, 4, 30);
      const y = randomLabels(4, vit.numClasses, 31);
      const lambdas = await adaptiveMerge({
        vit, params: trainer.args.tunable.params(), adapters: { "pgd-at": perDefense[0], trades: perDefense[1], mart: perDefense[2] }, x, y, objective: "adversarial-ce", lambdas: "simplex",
        steps: 2, lr: 0.1, batchSize: 4, attack: { eps: 8 / 255, stepSize: 2 / 255, steps: 2 }, seed: 1,
      });
      perDefense.forEach(disposeLora);
      tf.dispose([x, y]);
      trainer.dispose();
      disposeParams(backbone);
      return { lambdas: Object.values(lambdas).flat() };
    });
    assertClose(relativeErrors(r));
  });

  test("clean pretraining: losses and weights after three Adam steps", async (t) => {
    if (skip) return t.skip(skip);
    const r = await onBoth(async () => {
      const init = randomParams(vit, 12, 0.3);
      const losses: number[] = [];
      let i = 0;
      const out = await pretrainClean({
        vit, init, steps: 3, lr: 1e-3,
        nextBatch: () => ({ x: randomImages(vit, 4, 50 + i), y: randomLabels(4, vit.numClasses, 60 + i++) }),
        onStep: (_s, l) => losses.push(l),
      });
      const res: Outputs = { losses };
      Object.assign(res, await paramsOut("var.", out));
      disposeParams(out);
      disposeParams(init);
      return res;
    });
    const { rest } = splitVars(relativeErrors(r));
    t.diagnostic(assertAdamWeights(r, 3 * 1e-3));
    assertClose(rest);
  });

  test("checkpoint and exact resume on webgpu follow the uninterrupted trajectory", async (t) => {
    if (skip) return t.skip(skip);
    await tf.setBackend("webgpu");
    try {
      const cfg = runConfig("hyperat", ["pgd-at", "trades", "mart"]);
      const backbone = randomParams(vit, 13, 0.3);
      const batches = [0, 1, 2, 3].map((s) => ({ x: randomImages(vit, 4, 70 + s), y: randomLabels(4, vit.numClasses, 80 + s) }));
      const straight = buildTrainer(cfg, vit, backbone);
      const want: number[] = [];
      for (const b of batches) want.push((await straight.trainStep(b.x, b.y)).loss);
      const first = buildTrainer(cfg, vit, backbone);
      const got: number[] = [];
      for (const b of batches.slice(0, 2)) got.push((await first.trainStep(b.x, b.y)).loss);
      const { json, tensors } = first.state();
      const saved = JSON.parse(JSON.stringify(json));
      const copies = Object.fromEntries(await Promise.all(Object.entries(tensors).map(async ([k, v]) => [k, tf.tensor(await v.data(), v.shape)] as const)));
      first.dispose();
      const resumed = buildTrainer({ ...cfg, seed: 99 }, vit, backbone);
      resumed.restore(saved, copies);
      tf.dispose(Object.values(copies));
      for (const b of batches.slice(2)) got.push((await resumed.trainStep(b.x, b.y)).loss);
      assert.deepEqual(got, want, "same backend, same state: the same losses bit for bit");
      for (const b of batches) tf.dispose([b.x, b.y]);
      straight.dispose();
      resumed.dispose();
      disposeParams(backbone);
    } finally {
      await tf.setBackend("cpu");
    }
  });

  for (const imgSize of [undefined, 24]) {
    test(`timm fixture ${imgSize ? `resized to ${imgSize} px` : "as saved"}: logits and input gradient`, async (t) => {
      if (skip) return t.skip(skip);
      const fixture = JSON.parse(readFileSync(join(fixtureDir, "fixture.json"), "utf8")) as { heads: number; mean: [number, number, number]; std: [number, number, number] };
      const expected = (await readSafetensorsFile(join(fixtureDir, "expected.safetensors"))).tensors;
      const r = await onBoth(async () => {
        const model = await loadModelFile(join(fixtureDir, "model.safetensors"), { heads: fixture.heads, mean: fixture.mean, std: fixture.std, ...(imgSize ? { imgSize } : {}) });
        const c = model.config;
        let x = tf.tensor4d(expected.x.data as Float32Array, expected.x.shape as [number, number, number, number]);
        if (imgSize) {
          const resized = tf.image.resizeBilinear(x, [imgSize, imgSize]) as tf.Tensor4D;
          x.dispose();
          x = resized;
        }
        const y = tf.tensor1d(Int32Array.from(expected.y.data), "int32");
        const logits = tf.tidy(() => forward(c, model.params, x));
        const grad = tf.tidy(() => tf.grad((xi: tf.Tensor) => tf.sum(crossEntropy(forward(c, model.params, xi as tf.Tensor4D), y)))(x));
        const out = { logits: await take(logits), inputGrad: await take(grad), posEmbed: Float32Array.from(await model.params["pos_embed"].data()) };
        tf.dispose([x, y]);
        disposeParams(model.params);
        return out;
      });
      assertClose(relativeErrors(r));
    });
  }

  test("no leaks: tensors and GPU bytes stay flat over trainer steps and an evaluation attack", async (t) => {
    if (skip) return t.skip(skip);
    await tf.setBackend("webgpu");
    try {
      const backbone = randomParams(vit, 9, 0.3);
      const trainer = buildTrainer(runConfig("hyperat", ["pgd-at", "trades", "mart"]), vit, backbone);
      const x = randomImages(vit, 4, 40);
      const y = randomLabels(4, vit.numClasses, 41);
      const round = async () => {
        await trainer.trainStep(x, y);
        await trainer.loraNorms();
        const xa = await resolveAttack("apgd-ce-3").run((xi) => forward(vit, backbone, xi), x, y, { eps: 8 / 255, rng: Rng.fromSeed(2) });
        xa.dispose();
      };
      await round(); // first round may create cached constants
      const m0 = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      for (let i = 0; i < 3; i++) await round();
      const m1 = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      t.diagnostic(`numTensors ${m0.numTensors} → ${m1.numTensors}, numBytesInGPU ${m0.numBytesInGPU} → ${m1.numBytesInGPU}`);
      assert.equal(m1.numTensors, m0.numTensors, "tensors leaked");
      assert.equal(typeof m1.numBytesInGPU, "number", "the webgpu backend reports GPU bytes");
      assert.ok(m1.numBytesInGPU! <= m0.numBytesInGPU!, `GPU bytes grew: ${m0.numBytesInGPU} → ${m1.numBytesInGPU}`);
      tf.dispose([x, y]);
      trainer.dispose();
      disposeParams(backbone);
    } finally {
      await tf.setBackend("cpu");
    }
  });
});

/**
 * Weights after Adam steps. Adam moves each weight by ≈ lr · m/√v, i.e. by a full ±lr wherever
 * the gradient is tiny, whatever its size: an entry whose exact gradient is 0 but that one
 * backend computes as 1e-10 gets a full step on that backend only. Measured: the key third of
 * qkv.bias (softmax is shift-invariant, so its exact gradient is 0) and ~10 % of the hypernet's
 * qkv B head under MART. So weights are checked against Adam's bound (no entry more than the
 * steps' total lr apart); that they agree where it matters is checked by the next step's loss,
 * computed from them, which must match to 1e-5 (`loss1` above).
 */
function assertAdamWeights(r: { cpu: Outputs; webgpu: Outputs }, lrTotal: number): string {
  let close = 0;
  let all = 0;
  for (const [k, ref] of Object.entries(r.cpu)) {
    if (!k.startsWith("var.")) continue;
    const a = r.webgpu[k] as Float32Array;
    const b = ref as Float32Array;
    const scale = Math.max(1e-12, ...Array.from(b, Math.abs));
    for (let i = 0; i < b.length; i++) {
      const d = Math.abs(a[i] - b[i]);
      if (d <= TOL * scale) close++;
      all++;
      assert.ok(d <= lrTotal + TOL * scale, `${k}[${i}]: webgpu ${a[i]} vs cpu ${b[i]}, more than the steps' lr apart`);
    }
  }
  return `${close} of ${all} weights within ${TOL} relative`;
}

function splitVars(errs: Record<string, number>): { weights: Record<string, number>; rest: Record<string, number> } {
  const weights: Record<string, number> = {};
  const rest: Record<string, number> = {};
  for (const [k, v] of Object.entries(errs)) (k.startsWith("var.") ? weights : rest)[k] = v;
  return { weights, rest };
}
