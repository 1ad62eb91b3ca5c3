// Times what the dashboard's adversarial-example strip costs the extension host
// (src/extension/exampleStrip.ts): examples.safetensors of 24 images × 6 models → PNG data: URLs,
// and the size of the one message the page gets. Image contents are smooth gradients plus a
// ±eps perturbation, so PNG compression is realistic rather than worst case (pure noise).
// Run: npx tsx bench/exampleStrip.ts [size=224] [images=24]
import { examplesTensors, parseExamples } from "../src/core/evaluate/examplesFile";
import { parseSafetensors, serializeSafetensors } from "../src/core/io/safetensors";
import { exampleStrips } from "../src/extension/exampleStrip";

const side = Number(process.argv[2] ?? 224);
const k = Number(process.argv[3] ?? 24);
const size = side * side * 3;
const clean = Float32Array.from({ length: k * size }, (_, i) => {
  const p = i % size;
  const y = Math.floor(p / (side * 3));
  const x = Math.floor(p / 3) % side;
  return (0.5 + 0.4 * Math.sin((x + (i / size) * 7) / 9) * Math.cos(y / 13)) % 1;
});
const models = Array.from({ length: 6 }, (_, m) => ({
  target: `m${m}`,
  name: `model-${m}`,
  examples: {
    indices: [...Array(k).keys()], height: side, width: side,
    adversarial: clean.map((v, i) => v + (((i * 2654435761 + m) >>> 28) % 2 ? 8 : -8) / 255),
    cleanPred: Array(k).fill(0), advPred: Array(k).fill(1), brokenBy: Array(k).fill("pgd-20"),
  },
}));
const { tensors, metadata } = examplesTensors({ clean, labels: Array(k).fill(0), eps: "8/255", attacks: ["pgd-20"], step: 1, models });
const file = serializeSafetensors(tensors, metadata);
async function main(): Promise<void> {
  const t0 = performance.now();
  const strips = await exampleStrips(parseExamples(parseSafetensors(file, "bench"), "bench"));
  const ms = performance.now() - t0;
  const message = JSON.stringify({ type: "examples", strips }).length;
  console.log(`${side}×${side}, ${k} images × ${models.length} models: examples.safetensors ${(file.length / 2 ** 20).toFixed(2)} MiB; decode + ${k * (1 + 2 * models.length)} PNGs ${(ms / 1000).toFixed(2)} s; message ${(message / 2 ** 20).toFixed(1)} MiB`);
}

void main();
