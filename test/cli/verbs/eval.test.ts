import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { selectTestBackend } from "../../../src/core/backend/select";
import { presetConfig } from "../../../src/core/model/config";
import { initParams } from "../../../src/core/model/params";
import { paramsToTimm, saveModelFile } from "../../../src/core/model/modelFile";
import { timmConfig } from "../../../src/core/model/timmConfig";
import { writeSafetensorsFile } from "../../../src/core/io/files";
import { planAttackBatch } from "../../../src/core/memory/plan";
import { Rng } from "../../../src/core/rng";

const ROOT = path.resolve(__dirname, "../../..");

/** Runs the CLI from source in `cwd` (where relative paths resolve); tsx is imported by absolute URL. */
function hyperat(args: string[], cwd: string, env: Record<string, string> = {}) {
  const tsx = require.resolve("tsx", { paths: [ROOT] });
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(tsx).href, path.join(ROOT, "src/cli/main.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, HYPERAT_QUIET_BACKEND: "1", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("hyperat eval (end to end on a tiny saved model)", () => {
  let dir: string;
  before(async () => {
    await selectTestBackend();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "hyperat-eval-"));
    const c = presetConfig("vit-micro");
    const params = initParams(c, 1);
    // A random (non-zero) head, so logits depend on the input and attacks have gradients.
    params["head.weight"].dispose();
    params["head.weight"] = tf.tensor2d(Rng.fromSeed(2, "head").fillNormal(c.dim * c.numClasses, 0.5), [c.dim, c.numClasses]);
    await saveModelFile(path.join(dir, "tiny.safetensors"), c, params);
    // The same model as plain PyTorch would hand it over: a bare state_dict + timm's config.json.
    fs.mkdirSync(path.join(dir, "local-dir"));
    await writeSafetensorsFile(path.join(dir, "local-dir", "model.safetensors"), await paramsToTimm(c, params));
    fs.writeFileSync(path.join(dir, "local-dir", "config.json"), JSON.stringify(timmConfig(c)));
    for (const t of Object.values(params)) t.dispose();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("writes the JSON report (with samples) and the markdown report, prints the table", () => {
    const r = hyperat(
      ["eval", "--model", "tiny.safetensors", "--data", "synthetic:shapes10?n=12", "--attacks", "fgsm,pgd-3", "--eps", "8/255",
        "--n", "10", "--batch", "4", "--seed", "5", "--per-sample", "--out", "out/report.json", "--markdown", "out/report.md", "--backend", "cpu"],
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^attack\s+accuracy/m);
    assert.match(r.stdout, /^worst case\s+\d+\.\d\d%\s+n = 10, Linf eps = 8\/255$/m);
    const rep = JSON.parse(fs.readFileSync(path.join(dir, "out/report.json"), "utf8"));
    assert.deepEqual(Object.keys(rep.robustAccuracy), ["fgsm", "pgd-3"]);
    assert.deepEqual(rep.threatModel, { norm: "Linf", eps: "8/255" });
    assert.equal(rep.n, 10);
    assert.equal(rep.seed, 5);
    assert.equal(rep.backend, "cpu");
    assert.ok(rep.worstCaseRobustAccuracy <= rep.cleanAccuracy);
    assert.equal(rep.samples.length, 10);
    const s = rep.samples[0];
    assert.deepEqual(Object.keys(s).sort(), ["brokenBy", "cleanLogits", "cleanPred", "index", "label", "robust", "worstCaseRobust"]);
    assert.equal(s.cleanLogits.length, 10);
    assert.equal(rep.samples.filter((x: { worstCaseRobust: boolean }) => x.worstCaseRobust).length / 10, rep.worstCaseRobustAccuracy);
    const md = fs.readFileSync(path.join(dir, "out/report.md"), "utf8");
    for (const field of ["| Architecture | ViT (dim 64", "| Threat model | Linf |", "| eps | 8/255 |", "| n | 10 |", "| Checkpoint | tiny.safetensors |", "| Evaluation method |"]) {
      assert.ok(md.includes(field), field);
    }
  });

  test("a --batch over the memory limit runs at the planned batch, says so, and reports what an explicit run at that batch reports", () => {
    // A limit (HYPERAT_MEMORY_LIMIT_GIB) that holds the model and 2.5 images' attack step: batch 2.
    const c = presetConfig("vit-micro");
    const cpu = { backend: "cpu", bytes: 2 ** 50, source: "test" };
    const one = planAttackBatch(c, undefined, 1, cpu, "evaluation").requested.bytes;
    const two = planAttackBatch(c, undefined, 2, cpu, "evaluation").requested.bytes;
    const limitGiB = ((two + (two - one) / 2) / 2 ** 30).toFixed(9);
    const args = ["--data", "synthetic:shapes10?n=6", "--attacks", "pgd-2,apgd-ce-3", "--n", "6", "--backend", "cpu", "--per-sample", "--json"];
    const planned = hyperat(["eval", "--model", "tiny.safetensors", ...args, "--batch", "6"], dir, { HYPERAT_MEMORY_LIMIT_GIB: limitGiB });
    assert.equal(planned.code, 0, planned.stderr);
    assert.match(planned.stderr, /--batch 6 does not fit \(one attack step needs about \d+\.\d\d GiB, over the limit of \d+\.\d\d GiB \(HYPERAT_MEMORY_LIMIT_GIB=[\d.]+ on cpu\)\); running at 2 /);
    const explicit = hyperat(["eval", "--model", "tiny.safetensors", ...args, "--batch", "2"], dir);
    assert.equal(explicit.code, 0, explicit.stderr);
    const outcome = (out: string) => {
      const r = JSON.parse(out);
      return { batch: r.batchSize, clean: r.cleanAccuracy, robust: r.robustAccuracy, worst: r.worstCaseRobustAccuracy, samples: r.samples };
    };
    assert.equal(outcome(planned.stdout).batch, 2, "the report records the batch it ran at");
    assert.deepEqual(outcome(planned.stdout), outcome(explicit.stdout));
    const bad = hyperat(["eval", "--model", "tiny.safetensors", ...args], dir, { HYPERAT_MEMORY_LIMIT_GIB: "lots" });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /HYPERAT_MEMORY_LIMIT_GIB: expected a positive number of GiB \(e\.g\. 70\), got "lots"/);
  });

  test("--model takes a timm local-dir (config.json gives the heads) and an hf: id from the local cache, with the same numbers as the file", () => {
    const args = ["--data", "synthetic:shapes10?n=6", "--attacks", "pgd-2,fab-t-3", "--n", "6", "--batch", "6", "--backend", "cpu", "--json"];
    const file = hyperat(["eval", "--model", "tiny.safetensors", ...args], dir);
    assert.equal(file.code, 0, file.stderr);
    const folder = hyperat(["eval", "--model", "local-dir", ...args], dir);
    assert.equal(folder.code, 0, folder.stderr);
    const commit = "1".repeat(40);
    const repo = path.join(dir, "hub", "models--me--tiny");
    fs.mkdirSync(path.join(repo, "refs"), { recursive: true });
    fs.mkdirSync(path.join(repo, "snapshots"));
    fs.writeFileSync(path.join(repo, "refs", "main"), commit);
    fs.symlinkSync(path.join(dir, "local-dir"), path.join(repo, "snapshots", commit));
    const hub = hyperat(["eval", "--model", "hf:me/tiny", ...args], dir, { HF_HUB_CACHE: path.join(dir, "hub") });
    assert.equal(hub.code, 0, hub.stderr);
    const numbers = (out: string) => {
      const r = JSON.parse(out);
      return [r.cleanAccuracy, r.robustAccuracy, r.worstCaseRobustAccuracy];
    };
    assert.deepEqual(numbers(folder.stdout), numbers(file.stdout));
    assert.deepEqual(numbers(hub.stdout), numbers(file.stdout));
    assert.equal(JSON.parse(hub.stdout).model.checkpoint, `hf:me/tiny@${commit}`, "the report names the commit it read");
    assert.deepEqual(Object.keys(JSON.parse(file.stdout).robustAccuracy), ["pgd-2", "fab-t-3"]);
    const missing = hyperat(["eval", "--model", "hf:me/other", ...args], dir, { HF_HUB_CACHE: path.join(dir, "hub") });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /hf:me\/other: no model .* fetch it with: huggingface-cli download me\/other model\.safetensors config\.json/);
  });

  test("bad flags fail before any work, naming the flag and the choices", () => {
    const bad = hyperat(["eval", "--model", "tiny.safetensors", "--data", "synthetic:shapes10?n=4", "--attacks", "pgd-3,deepfool", "--backend", "cpu"], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /unknown attack "deepfool".*known: fgsm, pgd-<steps>.*presets: quick, standard, full/);
    const eps = hyperat(["eval", "--model", "tiny.safetensors", "--data", "synthetic:shapes10?n=4", "--eps", "8", "--backend", "cpu"], dir);
    assert.equal(eps.code, 1);
    assert.match(eps.stderr, /--eps: "8" = 8 must be in \(0, 1\] \(pixels are in \[0,1\]; did you mean "8\/255"\?\)/);
    const missing = hyperat(["eval", "--model", "nope.safetensors", "--data", "synthetic:shapes10?n=4", "--backend", "cpu"], dir);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.safetensors/);
  });
});
