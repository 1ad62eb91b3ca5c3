import * as tf from "@tensorflow/tfjs";
import { Rng, RngState } from "../rng";
import { Dataset, copyPixels, imageSize, subset } from "./types";

/**
 * Mini-batches with seeded per-epoch shuffling and the standard CIFAR augmentation (random crop
 * with 4-pixel zero padding, horizontal flip with p = 1/2; He et al. 2016, used by every
 * adversarial-training paper since Madry et al. 2018). The whole position is a small JSON
 * state, so a resumed run sees exactly the batches it would have seen.
 */
export interface BatcherOptions {
  batchSize: number;
  seed: number;
  /** Random crop + flip. Default true. */
  augment?: boolean;
  /** Zero padding of the random crop, pixels. Default 4. */
  pad?: number;
  /** Name of the random streams (different uses of one seed get independent orders). */
  stream?: string;
}

export interface BatcherState {
  epoch: number;
  /** Position within the epoch's permutation. */
  cursor: number;
  /** Augmentation stream; the epoch order is re-derived from (seed, stream, epoch). */
  augment: RngState;
}

export interface Batch {
  x: tf.Tensor4D;
  /** int32 labels. */
  y: tf.Tensor1D;
  /** Dataset indices of the batch rows. */
  indices: Int32Array;
}

export class Batcher {
  private epoch = 0;
  private cursor = 0;
  private order: Int32Array;
  private augRng: Rng;
  private readonly stream: string;
  private readonly pad: number;

  constructor(
    private readonly ds: Dataset,
    private readonly opts: BatcherOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new Error(`batch size must be a positive integer, got ${opts.batchSize}`);
    if (ds.n < opts.batchSize) throw new Error(`dataset ${ds.source} has ${ds.n} samples, fewer than one batch of ${opts.batchSize}`);
    this.stream = opts.stream ?? "data";
    this.pad = opts.pad ?? 4;
    this.order = this.epochOrder(0);
    this.augRng = Rng.fromSeed(opts.seed, `${this.stream}/augment`);
  }

  private epochOrder(epoch: number): Int32Array {
    return Rng.fromSeed(this.opts.seed, `${this.stream}/order/${epoch}`).permutation(this.ds.n);
  }

  /** Full batches only: the tail of an epoch that does not fill one is skipped (fixed shapes). */
  nextIndices(): Int32Array {
    const B = this.opts.batchSize;
    if (this.cursor + B > this.ds.n) {
      this.epoch++;
      this.cursor = 0;
      this.order = this.epochOrder(this.epoch);
    }
    const idx = this.order.slice(this.cursor, this.cursor + B);
    this.cursor += B;
    return idx;
  }

  nextBatch(): Batch {
    const indices = this.nextIndices();
    const images = gatherImages(this.ds, indices);
    if (this.opts.augment ?? true) augmentInPlace(images, indices.length, this.ds.height, this.ds.width, this.pad, this.augRng);
    return makeBatch(this.ds, images, indices);
  }

  /** Epochs completed so far (fractional). */
  epochs(): number {
    return this.epoch + this.cursor / this.ds.n;
  }

  state(): BatcherState {
    return { epoch: this.epoch, cursor: this.cursor, augment: this.augRng.state() };
  }

  restore(s: BatcherState): void {
    const ok = s && Number.isInteger(s.epoch) && s.epoch >= 0 && Number.isInteger(s.cursor) && s.cursor >= 0 && s.cursor <= this.ds.n && Array.isArray(s.augment) && s.augment.length === 4;
    if (!ok) throw new Error(`invalid batcher state ${JSON.stringify(s)} for dataset ${this.ds.source} (n = ${this.ds.n})`);
    this.epoch = s.epoch;
    this.cursor = s.cursor;
    this.order = this.epochOrder(s.epoch);
    this.augRng = Rng.fromState(s.augment);
  }
}

function gatherImages(ds: Dataset, indices: ArrayLike<number>): Float32Array {
  const size = imageSize(ds);
  const out = new Float32Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < ds.n)) throw new Error(`dataset ${ds.source}: index ${i} is outside [0, ${ds.n})`);
    copyPixels(ds.images, i * size, (i + 1) * size, out, k * size);
  }
  return out;
}

function makeBatch(ds: Dataset, images: Float32Array, indices: Int32Array): Batch {
  const y = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) y[k] = ds.labels[indices[k]];
  return {
    x: tf.tensor4d(images, [indices.length, ds.height, ds.width, 3]),
    y: tf.tensor1d(y, "int32"),
    indices,
  };
}

/**
 * Random crop of the zero-padded image (equivalently: shift by (dy, dx) in [-pad, pad], fill
 * with 0) and horizontal flip, per image. Draw order per image: dy, dx, flip.
 */
export function augmentInPlace(images: Float32Array, n: number, h: number, w: number, pad: number, rng: Rng): void {
  const size = h * w * 3;
  const src = new Float32Array(size);
  for (let k = 0; k < n; k++) {
    const img = images.subarray(k * size, (k + 1) * size);
    src.set(img);
    const dy = rng.int(2 * pad + 1) - pad;
    const dx = rng.int(2 * pad + 1) - pad;
    const flip = rng.next() < 0.5;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        const o = (y * w + x) * 3;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
          img[o] = img[o + 1] = img[o + 2] = 0;
        } else {
          const s = (sy * w + sx) * 3;
          img[o] = src[s];
          img[o + 1] = src[s + 1];
          img[o + 2] = src[s + 2];
        }
      }
    }
  }
}

/** Un-augmented tensors for the given samples (evaluation, attacks). */
export function toTensors(ds: Dataset, indices: ArrayLike<number>): Batch {
  const idx = Int32Array.from(indices);
  return makeBatch(ds, gatherImages(ds, idx), idx);
}

/** Consecutive index ranges [start, end) covering the dataset, for ordered evaluation. */
export function evalRanges(n: number, batchSize: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += batchSize) out.push([s, Math.min(n, s + batchSize)]);
  return out;
}

/**
 * Seeded held-out split: `val` is a fraction in (0, 1) or a count. Both parts keep the
 * dataset's order; which samples go where depends only on (n, val, seed).
 */
export function split(ds: Dataset, val: number, seed: number): { train: Dataset; val: Dataset } {
  const k = val > 0 && val < 1 ? Math.round(val * ds.n) : val;
  if (!Number.isInteger(k) || k <= 0 || k >= ds.n) {
    throw new Error(`dataset ${ds.source}: cannot hold out ${val} of ${ds.n} samples (need a fraction in (0,1) or a count in [1, n-1])`);
  }
  const perm = Rng.fromSeed(seed, "holdout").permutation(ds.n);
  const valIdx = Int32Array.from(perm.subarray(0, k)).sort();
  const trainIdx = Int32Array.from(perm.subarray(k)).sort();
  return {
    train: subset(ds, trainIdx, `${ds.source} (train part, ${ds.n - k})`),
    val: subset(ds, valIdx, `${ds.source} (held-out part, ${k})`),
  };
}
