import * as tf from "@tensorflow/tfjs";
import { moduleDims, ModuleType } from "../../../src/core/model/params";
import { LoraSet, targetPaths } from "../../../src/core/model/lora";
import { Rng } from "../../../src/core/rng";
import type { ViTConfig } from "../../../src/core/model/config";

/** A seeded rank-2 adapter (scale 2) on `targets` of every block: what merge tests combine. */
export function randomAdapter(vit: ViTConfig, targets: readonly ModuleType[], seed: number): LoraSet {
  const rng = Rng.fromSeed(seed, "test-adapter");
  const r = 2;
  const factors: LoraSet["factors"] = {};
  for (const path of targetPaths(vit.depth, targets)) {
    const [din, dout] = moduleDims(vit, path.split(".").pop() as ModuleType);
    factors[path] = { a: tf.tensor2d(rng.fillNormal(din * r, 0.5), [din, r]), b: tf.tensor2d(rng.fillNormal(r * dout, 0.5), [r, dout]) };
  }
  return { scale: 2, factors };
}

/** One random adapter per seed. */
export function randomAdapters(vit: ViTConfig, targets: readonly ModuleType[], seeds: number[]): LoraSet[] {
  return seeds.map((s) => randomAdapter(vit, targets, s));
}
