import type { Rng } from "../src/core/rng";

/** One dense layer of a toy classifier, as plain arrays so the Python reference can load it. */
export interface ToyLayer {
  w: number[];
  b: number[];
  rows: number;
  cols: number;
}

/** Seeded dense layers for widths `dims` (LeCun-normal weights, N(0, 0.1) biases): the toy models
 * that bench/fab_reference.ts and bench/attack_reference.ts share with their Python references. */
export function randomLayers(rng: Rng, dims: number[]): ToyLayer[] {
  const layers: ToyLayer[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const [rows, cols] = [dims[l], dims[l + 1]];
    layers.push({ rows, cols, w: Array.from(rng.fillNormal(rows * cols, 1 / Math.sqrt(rows))), b: Array.from(rng.fillNormal(cols, 0.1)) });
  }
  return layers;
}
