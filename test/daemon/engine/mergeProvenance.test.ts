// merge.json, the model card and the weights' metadata say which strategy a merged folder holds
// and what chose its λ (issue 16 item 5): deviation from 1/K, objective before/after, λ steps.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../../src/core/backend/select";
import { validateConfig as validateVit } from "../../../src/core/model/config";
import { disposeParams, initParams } from "../../../src/core/model/params";
import { readSafetensorsFile } from "../../../src/core/io/files";
import { validateConfig } from "../../../src/core/config/validate";
import { listMergedModels, writeMergedFolder } from "../../../src/daemon/engine/exports";
import { renderModelCard, type MergeProvenance } from "../../../src/daemon/engine/modelCard";

let tmp: string;
before(async () => {
  await selectBackend("cpu");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-prov-"));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const vit = validateVit({ imgSize: 8, patchSize: 4, inChans: 3, numClasses: 3, dim: 8, depth: 2, heads: 2, mlpDim: 16, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
const cfg = validateConfig({
  name: "prov",
  data: { train: "synthetic:shapes10?n=10" },
  model: { path: "/m.safetensors" },
  defenses: [{ name: "pgd-at" }, { name: "trades" }, { name: "mart" }],
  lora: { rank: 2, alpha: 4 },
});
const third = 1 / 3;

async function merge(runDir: string, strategy: "adaptive" | "uniform", lambdas: Record<string, number[]>, lambdaSteps: number, objective?: MergeProvenance["objective"]) {
  const params = initParams(vit, 1);
  try {
    return await writeMergedFolder({ runDir, cfg, backbone: { vit, params, source: "/m.safetensors", notes: [] }, vit, params, strategy, lambdas, lambdaSteps, objective, step: 40, from: "best", classNames: ["a", "b", "c"] });
  } finally {
    disposeParams(params);
  }
}

test("an adaptive merge records its strategy, λ − 1/K, the objective before/after and the λ steps in merge.json, the card and the weights", async () => {
  const runDir = path.join(tmp, "adaptive");
  const lambdas = { "pgd-at": [third + 0.02, third - 0.01], trades: [third - 0.015, third], mart: [third - 0.005, third + 0.01] };
  const objective = { kind: "adversarial-ce", before: 1.2345, after: 1.198, steps: 20 };
  const file = await merge(runDir, "adaptive", lambdas, 20, objective);
  assert.equal(file, path.join(runDir, "merged", "adaptive", "model.safetensors"));
  const prov = JSON.parse(fs.readFileSync(path.join(runDir, "merged", "adaptive", "merge.json"), "utf8")) as MergeProvenance;
  assert.equal(prov.strategy, "adaptive");
  assert.deepEqual(prov.objective, objective);
  assert.equal(prov.lambdaSteps, 20);
  assert.deepEqual(Object.keys(prov.lambdaDeviation!), ["pgd-at", "trades", "mart"]);
  assert.ok(Math.abs(prov.lambdaDeviation!["pgd-at"][0] - 0.02) < 1e-12);
  assert.ok(Math.abs(prov.lambdaDeviation!.trades[0] + 0.015) < 1e-12);
  assert.equal(prov.from, "best");

  const card = fs.readFileSync(path.join(runDir, "merged", "adaptive", "README.md"), "utf8");
  assert.match(card, /# prov: adaptive merge/);
  assert.match(card, /Adaptive merge: adversarial-ce 1\.2345 → 1\.1980 over 20 λ steps on the validation split\./);
  assert.match(card, /K = 3 \(1\/K = 0\.3333\)/);
  // mean, min, max of λ − 1/K per defense, signed at 4 decimals
  assert.match(card, /\| pgd-at \| \+0\.0050 \| −0\.0100 \| \+0\.0200 \|/);
  assert.match(card, /\| trades \| −0\.0075 \| −0\.0150 \| 0 \|/);

  const meta = (await readSafetensorsFile(file)).metadata;
  assert.equal(meta.merge, "adaptive");
  assert.equal(meta.lambda_steps, "20");
  assert.deepEqual(JSON.parse(meta.merge_objective), objective);
});

test("a uniform merge says no λ step ran, its deviations are all zero, and no flat merged/model.safetensors is left to guess about", async () => {
  const runDir = path.join(tmp, "uniform");
  const lambdas = { "pgd-at": [third, third], trades: [third, third], mart: [third, third] };
  const file = await merge(runDir, "uniform", lambdas, 0);
  const prov = JSON.parse(fs.readFileSync(path.join(path.dirname(file), "merge.json"), "utf8")) as MergeProvenance;
  assert.equal(prov.strategy, "uniform");
  assert.equal(prov.lambdaSteps, 0);
  assert.equal(prov.objective, undefined);
  assert.ok(Object.values(prov.lambdaDeviation!).flat().every((d) => Math.abs(d) < 1e-12));
  const card = fs.readFileSync(path.join(path.dirname(file), "README.md"), "utf8");
  assert.match(card, /Uniform merge: λ = 1\/K for every defense and block, no λ step ran\./);
  assert.match(card, /\| mart \| 0 \| 0 \| 0 \|/);
  assert.equal((await readSafetensorsFile(file)).metadata.merge_objective, undefined);
  // Every merged weights file sits in a folder named by its strategy, beside its merge.json.
  assert.deepEqual(fs.readdirSync(path.join(runDir, "merged")), ["uniform"]);
  assert.deepEqual((await listMergedModels(runDir)).map((m) => m.strategy), ["uniform"]);
});

test("the card tells an adaptive merge that ran no λ step from one whose objective predates the record", () => {
  const base = JSON.parse(fs.readFileSync(path.join(tmp, "uniform", "merged", "uniform", "merge.json"), "utf8")) as MergeProvenance;
  const noStep = renderModelCard({ ...base, strategy: "adaptive", lambdaSteps: 0 }, "adaptive");
  assert.match(noStep, /Adaptive merge with no λ step run \(one defense, or full-at\): λ = 1\/K, the same weights as the uniform merge\./);
  const { lambdaSteps: _s, lambdaDeviation: _d, ...older } = base;
  const old = renderModelCard({ ...older, strategy: "adaptive" }, "adaptive");
  assert.match(old, /the objective was not recorded/);
  assert.match(old, /\| pgd-at \| 0 \| 0 \| 0 \|/);
});
