import { Rng } from "../rng";
import { Dataset } from "./types";

/**
 * "shapes10": the built-in procedural dataset. 32×32 RGB, 10 classes told apart by *shape or
 * texture*, never by colour: foreground and background colours are random in every class (with
 * a minimum luminance contrast so the shape is visible), plus random position, scale, rotation,
 * a background gradient and pixel noise. Sample i depends only on (seed, split, i), so any n is
 * cheap and the first k samples do not depend on n. Labels are a seeded permutation of 0..9 in
 * every block of 10 consecutive indices: classes are balanced exactly for n a multiple of 10.
 */
export const SHAPES10_CLASSES = [
  "circle",
  "square",
  "triangle",
  "cross",
  "ring",
  "horizontal-stripes",
  "vertical-stripes",
  "checkerboard",
  "diagonal-line",
  "dots",
] as const;

export const SHAPES10_SIZE = 32;

export interface SyntheticOptions {
  n: number;
  seed: number;
  /** Index of the first sample (samples offset..offset+n-1). */
  offset?: number;
  /** Train and test draw from independent streams of the same seed. */
  split?: "train" | "test";
}

type Vec = [number, number];

/** Signed distance (pixels, negative inside) from local coordinates p to the shape. */
type Sdf = (x: number, y: number) => number;

function boxSdf(x: number, y: number, hx: number, hy: number): number {
  const qx = Math.abs(x) - hx;
  const qy = Math.abs(y) - hy;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
}

/** Equilateral triangle of circumradius r, pointing up (Inigo Quilez's exact SDF). */
function triangleSdf(x: number, y: number, r: number): number {
  const k = Math.sqrt(3);
  const a = r * (k / 2); // half side
  let px = Math.abs(x) - a;
  let py = -y + a / k;
  if (px + k * py > 0) {
    const nx = (px - k * py) / 2;
    const ny = (-k * px - py) / 2;
    px = nx;
    py = ny;
  }
  px -= Math.min(Math.max(px, -2 * a), 0);
  return -Math.hypot(px, py) * Math.sign(py);
}

/** Coverage in [0,1] of a pixel by a region with signed distance d (1-pixel antialiasing). */
function coverage(d: number): number {
  return Math.min(1, Math.max(0, 0.5 - d));
}

function luma(c: number[]): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

/** A shape class's coverage function in image coordinates, drawn from `rng`. */
function drawClass(label: number, rng: Rng): (x: number, y: number) => number {
  const S = SHAPES10_SIZE;
  const r = rng.uniform(7, 12); // shape radius in pixels
  const cx = rng.uniform(r - 2, S - r + 2);
  const cy = rng.uniform(r - 2, S - r + 2);
  const rot = (deg: number) => (rng.uniform(-deg, deg) * Math.PI) / 180;
  const local = (angle: number, ox = cx, oy = cy): ((x: number, y: number) => Vec) => {
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    return (x, y) => [c * (x - ox) + s * (y - oy), -s * (x - ox) + c * (y - oy)];
  };
  const shape = (sdf: Sdf, angle: number) => {
    const to = local(angle);
    return (x: number, y: number) => coverage(sdf(...to(x, y)));
  };
  // Periodic textures: a square-ish wave with soft edges, over the whole image.
  const wave = (v: number, period: number, phase: number) => Math.min(1, Math.max(0, 0.5 + 1.5 * Math.sin((2 * Math.PI * v) / period + phase)));
  switch (label) {
    case 0:
      return shape((x, y) => Math.hypot(x, y) - r, 0);
    case 1: {
      const h = r * 0.85;
      return shape((x, y) => boxSdf(x, y, h, h), rot(45));
    }
    case 2:
      return shape((x, y) => triangleSdf(x, y, r * 1.1), rot(30));
    case 3: {
      const w = r * rng.uniform(0.25, 0.35);
      return shape((x, y) => Math.min(boxSdf(x, y, r, w), boxSdf(x, y, w, r)), rot(20));
    }
    case 4: {
      const width = r * rng.uniform(0.2, 0.3);
      return shape((x, y) => Math.abs(Math.hypot(x, y) - (r - width)) - width, 0);
    }
    case 5:
    case 6: {
      const period = rng.uniform(5, 9);
      const phase = rng.uniform(0, 2 * Math.PI);
      const to = local(rot(12) + (label === 6 ? Math.PI / 2 : 0), S / 2, S / 2);
      return (x, y) => wave(to(x, y)[1], period, phase);
    }
    case 7: {
      const cell = rng.uniform(3.5, 6);
      const phx = rng.uniform(0, cell);
      const phy = rng.uniform(0, cell);
      const to = local(rot(10), S / 2, S / 2);
      return (x, y) => {
        const [u, v] = to(x, y);
        return Math.min(1, Math.max(0, 0.5 + 2 * Math.sin((Math.PI * (u + phx)) / cell) * Math.sin((Math.PI * (v + phy)) / cell)));
      };
    }
    case 8: {
      const width = rng.uniform(1.5, 2.5);
      const angle = (rng.next() < 0.5 ? Math.PI / 4 : -Math.PI / 4) + rot(12);
      const to = local(angle, rng.uniform(12, 20), rng.uniform(12, 20));
      return (x, y) => coverage(Math.abs(to(x, y)[1]) - width);
    }
    default: {
      const k = 4 + rng.int(5);
      const dots: Array<[number, number, number]> = [];
      for (let i = 0; i < k; i++) dots.push([rng.uniform(3, S - 3), rng.uniform(3, S - 3), rng.uniform(1.5, 2.8)]);
      return (x, y) => {
        let d = Infinity;
        for (const [ox, oy, rr] of dots) d = Math.min(d, Math.hypot(x - ox, y - oy) - rr);
        return coverage(d);
      };
    }
  }
}

/** Foreground and two background colours with at least 0.3 luminance contrast. */
function drawColours(rng: Rng): { fg: number[]; bg0: number[]; bg1: number[] } {
  for (;;) {
    const fg = [rng.next(), rng.next(), rng.next()];
    const bg0 = [rng.next(), rng.next(), rng.next()];
    const bg1 = bg0.map((v) => Math.min(1, Math.max(0, v + rng.uniform(-0.15, 0.15))));
    if (Math.abs(luma(fg) - luma(bg0)) >= 0.3 && Math.abs(luma(fg) - luma(bg1)) >= 0.25) return { fg, bg0, bg1 };
  }
}

/** Label of sample `index`: a seeded permutation of the classes within each block of 10. */
export function shapes10Label(seed: number, split: "train" | "test", index: number): number {
  const block = Math.floor(index / SHAPES10_CLASSES.length);
  return Rng.fromSeed(seed, `shapes10/${split}/labels/${block}`).permutation(SHAPES10_CLASSES.length)[index % SHAPES10_CLASSES.length];
}

/** Renders sample `index` into `out` (HWC, 32·32·3 values in [0,1]); returns its label. */
export function renderShapes10(seed: number, split: "train" | "test", index: number, out: Float32Array): number {
  const S = SHAPES10_SIZE;
  const label = shapes10Label(seed, split, index);
  const rng = Rng.fromSeed(seed, `shapes10/${split}/${index}`);
  const { fg, bg0, bg1 } = drawColours(rng);
  const gradAngle = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(gradAngle) / S;
  const gy = Math.sin(gradAngle) / S;
  const noise = rng.uniform(0.01, 0.05);
  const cover = drawClass(label, rng);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + (x - S / 2) * gx + (y - S / 2) * gy));
      const a = cover(x + 0.5, y + 0.5);
      for (let c = 0; c < 3; c++) {
        const bg = bg0[c] + (bg1[c] - bg0[c]) * t;
        const v = bg + (fg[c] - bg) * a + noise * rng.normal();
        out[(y * S + x) * 3 + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return label;
}

export function shapes10(opts: SyntheticOptions): Dataset {
  const { n, seed } = opts;
  const offset = opts.offset ?? 0;
  const split = opts.split ?? "train";
  if (!Number.isInteger(n) || n < 0) throw new Error(`synthetic:shapes10: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`synthetic:shapes10: offset must be a non-negative integer, got ${offset}`);
  if (!Number.isInteger(seed)) throw new Error(`synthetic:shapes10: seed must be an integer, got ${seed}`);
  const size = SHAPES10_SIZE * SHAPES10_SIZE * 3;
  const images = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = renderShapes10(seed, split, offset + i, images.subarray(i * size, (i + 1) * size));
  return {
    images,
    labels,
    n,
    height: SHAPES10_SIZE,
    width: SHAPES10_SIZE,
    numClasses: SHAPES10_CLASSES.length,
    classNames: [...SHAPES10_CLASSES],
    source: `synthetic:shapes10?n=${n}&seed=${seed}${offset ? `&offset=${offset}` : ""}${split === "test" ? " (test split)" : ""}`,
  };
}
