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
import { saveModelFile } from "../../../src/core/model/checkpoint";
import { Rng } from "../../../src/core/rng";

const ROOT = path.resolve(__dirname, "../../..");

/** Runs the CLI from source in `cwd` (where relative paths resolve); tsx is imported by absolute URL. */
function hyperat(args: string[], cwd: string) {
  const tsx = require.resolve("tsx", { paths: [ROOT] });
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(tsx).href, path.join(ROOT, "src/cli/main.ts"), ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, HYPERAT_QUIET_BACKEND: "1" },
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
