// Writes a merged/<strategy>/ export (or takes an existing one with --model) plus
// expected.safetensors: NHWC images and HyperAT's clean logits for them, for
// bench/plain_vit.py to rebuild the ViT from config.json + model.safetensors alone and compare.
//   npx tsx bench/export_roundtrip.ts --out /tmp/rt            (a random, non-trivial ViT)
//   npx tsx bench/export_roundtrip.ts --out /tmp/rt --model RUN/merged/adaptive
//   python3 bench/plain_vit.py --model /tmp/rt/run/merged/adaptive --expected /tmp/rt/expected.safetensors
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../src/core/backend/select";
import { validateConfig as validateVit } from "../src/core/model/config";
import { initParams, ParamMap } from "../src/core/model/params";
import { forward } from "../src/core/model/vit";
import { loadModelSpec } from "../src/core/model/modelSource";
import { validateConfig } from "../src/core/config/validate";
import { writeMergedFolder } from "../src/daemon/engine/exports";
import { writeSafetensorsFile } from "../src/core/io/files";
import { Rng } from "../src/core/rng";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const out = flag("--out");
  if (!out) throw new Error("usage: export_roundtrip.ts --out DIR [--model EXPORTED_FOLDER] [--n 16]");
  const n = Number(flag("--n") ?? 16);
  await selectBackend("cpu");
  let folder = flag("--model");
  if (!folder) {
    // 3 heads at width 48 and ImageNet normalization: what only config.json can tell a reader.
    const vit = validateVit({ imgSize: 32, patchSize: 4, inChans: 3, numClasses: 10, dim: 48, depth: 3, heads: 3, mlpDim: 144, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    const rng = Rng.fromSeed(11, "roundtrip");
    const init = initParams(vit, 3);
    const params: ParamMap = {};
    // Every tensor moved off its init (unit LayerNorm scales, zero biases and head would hide bugs).
    for (const [k, t] of Object.entries(init)) params[k] = tf.tidy(() => tf.add(t, tf.tensor(rng.fillNormal(t.size, 0.2), t.shape)));
    const cfg = validateConfig({ name: "roundtrip", data: { train: "synthetic:shapes10?n=10" }, model: { path: "/m.safetensors" }, lora: { rank: 4, alpha: 8 } });
    const file = await writeMergedFolder({ runDir: path.join(out, "run"), cfg, backbone: { vit, params, source: "random", notes: [] }, vit, params, strategy: "adaptive", lambdas: {}, lambdaSteps: 0, step: 0, from: "latest", classNames: [] });
    folder = path.dirname(file);
  }
  const m = await loadModelSpec(folder);
  const c = m.config;
  const x = tf.tensor4d(Rng.fromSeed(5, "roundtrip-x").fillUniform(n * c.imgSize * c.imgSize * 3, 0, 1), [n, c.imgSize, c.imgSize, 3]);
  const logits = tf.tidy(() => forward(c, m.params, x));
  const expected = path.join(out, "expected.safetensors");
  await writeSafetensorsFile(expected, {
    x: { shape: x.shape, data: (await x.data()) as Float32Array },
    logits: { shape: logits.shape, data: (await logits.data()) as Float32Array },
  });
  console.log(JSON.stringify({ folder, expected, n, vit: c }));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
