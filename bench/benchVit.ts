// What the memory benches (memoryVit.ts, memoryMerge.ts) share: random timm-layout weights
// written to a temp file (224 px / patch 16 as timm ships them, loaded at 32 px / patch 4 as the
// flagship config examples/cifar10-vit-b16.hyperat.json does), and the two memory readings.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { presetConfig } from "../src/core/model/config";
import { paramShapes } from "../src/core/model/params";
import { timmShapeOf } from "../src/core/model/timmLayout";
import { writeSafetensorsFile } from "../src/core/io/files";
import { Rng } from "../src/core/rng";
import { validateConfig } from "../src/core/config/validate";
import type { RunConfig } from "../src/core/config/types";

export const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

/** The wasm heap's size (bytes): it grows and never shrinks, so this is its high-water mark. */
export function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { asm: { memory: WebAssembly.Memory } } };
  return b.wasm ? b.wasm.asm.memory.buffer.byteLength : 0;
}

/** Peak RSS of this process so far (VmHWM), bytes. */
export function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

async function writeRandomTimm(file: string, preset: string): Promise<void> {
  const vit = presetConfig(preset, { imgSize: 224, patchSize: 16, numClasses: 1000 });
  const rng = Rng.fromSeed(0, "bench-weights");
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, engineShape] of paramShapes(vit)) {
    const shape = timmShapeOf(name, engineShape);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const std = name.endsWith(".weight") && shape.length === 1 ? 0 : 0.02;
    for (let i = 0; i < data.length; i++) data[i] = name.endsWith("norm1.weight") || name.endsWith("norm2.weight") || name === "norm.weight" ? 1 : std * rng.uniform(-1.7, 1.7);
    tensors[name] = { shape, data };
  }
  await writeSafetensorsFile(file, tensors, { num_heads: String(vit.heads) });
}

/** The random timm file of `preset` in the temp folder, written on first use. */
export async function randomTimmFile(preset: string): Promise<string> {
  const file = path.join(os.tmpdir(), `hyperat-bench-${preset}.safetensors`);
  if (!fs.existsSync(file)) await writeRandomTimm(file, preset);
  return file;
}

/**
 * The flagship config (examples/cifar10-vit-b16.hyperat.json) on the model file `file` with
 * small synthetic splits; `edit` changes sections given the flagship's own (attack, training...).
 */
export function flagshipConfig(file: string, trainN: number, edit: (flagship: Record<string, Record<string, unknown>>) => Record<string, unknown> = () => ({})): RunConfig {
  const flagship = JSON.parse(fs.readFileSync("examples/cifar10-vit-b16.hyperat.json", "utf8"));
  delete flagship.$schema;
  return validateConfig({
    ...flagship,
    model: { ...flagship.model, path: file },
    data: { train: `synthetic:shapes10?n=${trainN}`, val: "synthetic:shapes10?n=8", test: "synthetic:shapes10?n=8" },
    ...edit(flagship),
  }) as RunConfig;
}
