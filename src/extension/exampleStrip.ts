// The dashboard's adversarial-example strip from a run's examples.safetensors (written by
// src/daemon/engine/evaluateRun.ts, format in src/core/evaluate/examplesFile.ts): per model, the
// clean image, the adversarial one and the perturbation amplified, as PNG data: URLs, with the
// true, clean-predicted and adversarial-predicted labels and the attack that broke it.
import { join } from "node:path";
import { EXAMPLES_FILE, parseExamples, type ExamplesDocument } from "../core/evaluate/examplesFile";
import { parseEps } from "../core/evaluate/eps";
import { readSafetensorsFile } from "../core/io/files";
import type { ExampleStrip } from "../protocol/webview";
import { pngDataUrl } from "./pngEncode";

/**
 * Perturbation shown as mid-grey plus the difference scaled so ±eps spans black to white (the
 * usual way to make an L∞ perturbation of 8/255 visible at all).
 */
export function amplifiedPerturbation(clean: ArrayLike<number>, adversarial: ArrayLike<number>, eps: number): Float32Array {
  const out = new Float32Array(clean.length);
  const scale = eps > 0 ? 1 / (2 * eps) : 0;
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, 0.5 + (adversarial[i] - clean[i]) * scale));
  return out;
}

/** Yields to the event loop between models: at 224 px encoding takes seconds (bench/RESULTS.md),
 * and the extension host must keep answering meanwhile. */
const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function exampleStrips(doc: ExamplesDocument): Promise<ExampleStrip[]> {
  let eps = 0;
  try {
    eps = parseEps(doc.eps).value;
  } catch {
    // No readable eps: scale by the largest perturbation in the file instead.
    for (const m of doc.models) for (let i = 0; i < m.adversarial.length; i++) eps = Math.max(eps, Math.abs(m.adversarial[i] - doc.clean[i]));
  }
  const size = doc.height * doc.width * 3;
  const image = (x: Float32Array, i: number) => x.subarray(i * size, (i + 1) * size);
  const cleanUrls = Array.from({ length: doc.k }, (_, i) => pngDataUrl(image(doc.clean, i), doc.width, doc.height));
  const strips: ExampleStrip[] = [];
  for (const m of doc.models) {
    await yieldNow();
    strips.push({
      target: m.target,
      name: m.name,
      eps: doc.eps,
      step: doc.step,
      items: Array.from({ length: doc.k }, (_, i) => ({
        index: doc.indices[i],
        label: doc.labels[i],
        cleanPred: m.cleanPred[i],
        advPred: m.advPred[i],
        brokenBy: m.brokenBy[i],
        clean: cleanUrls[i],
        adversarial: pngDataUrl(image(m.adversarial, i), doc.width, doc.height),
        perturbation: pngDataUrl(amplifiedPerturbation(image(doc.clean, i), image(m.adversarial, i), eps), doc.width, doc.height),
      })),
    });
  }
  return strips;
}

/** The run's strips, or undefined when it has no examples.safetensors yet. */
export async function readExampleStrips(runDir: string): Promise<ExampleStrip[] | undefined> {
  const file = join(runDir, EXAMPLES_FILE);
  const contents = await readSafetensorsFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" || /ENOENT|no such file/.test(e.message)) return undefined;
    throw e;
  });
  return contents && exampleStrips(parseExamples(contents, file));
}
