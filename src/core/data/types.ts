/**
 * Stored pixels: float32 values in [0,1], or uint8 bytes where b stands for b/255. Decoded
 * image folders stay uint8 (a quarter of the memory) until a batch is formed; batches, the
 * model and the attacks always see float32 in [0,1].
 */
export type PixelArray = Float32Array | Uint8Array;

/**
 * An in-memory labelled image set. Pixels are in [0,1], NHWC with 3 channels, so the model
 * (which normalizes inside) and the attacks (eps in pixel space) see the same values.
 */
export interface Dataset {
  /** n * height * width * 3 values, NHWC, each in [0, 1] (or uint8 bytes of value·255). */
  images: PixelArray;
  /** n class indices in [0, numClasses). */
  labels: Int32Array;
  n: number;
  height: number;
  width: number;
  numClasses: number;
  /** numClasses names, index = label. */
  classNames: string[];
  /** Where it came from (the data spec, a path), shown in reports and errors. */
  source: string;
}

/** Values per image (H * W * 3). */
export function imageSize(ds: Pick<Dataset, "height" | "width">): number {
  return ds.height * ds.width * 3;
}

/** Copies values [from, to) of `src` into `out` at `at`, as float32 in [0,1]. */
export function copyPixels(src: PixelArray, from: number, to: number, out: Float32Array, at: number): void {
  if (src instanceof Float32Array) {
    out.set(src.subarray(from, to), at);
    return;
  }
  for (let i = from; i < to; i++) out[at + i - from] = src[i] / 255;
}

/** Checks the arrays agree with the declared sizes; names the dataset and what is off. */
export function checkDataset(ds: Dataset): Dataset {
  const bad = (m: string): never => {
    throw new Error(`dataset ${ds.source}: ${m}`);
  };
  if (ds.images.length !== ds.n * imageSize(ds)) {
    bad(`images has ${ds.images.length} values, expected n*H*W*3 = ${ds.n}*${ds.height}*${ds.width}*3`);
  }
  if (ds.labels.length !== ds.n) bad(`labels has ${ds.labels.length} entries, expected n = ${ds.n}`);
  if (ds.classNames.length !== ds.numClasses) bad(`${ds.classNames.length} class names for ${ds.numClasses} classes`);
  for (let i = 0; i < ds.n; i++) {
    const y = ds.labels[i];
    if (y < 0 || y >= ds.numClasses) bad(`label ${y} of sample ${i} is outside [0, ${ds.numClasses})`);
  }
  return ds;
}

/** A new dataset holding the given samples (copied), in the given order. */
export function subset(ds: Dataset, indices: ArrayLike<number>, source = ds.source): Dataset {
  const size = imageSize(ds);
  // Same storage type as the source: a subset of a uint8 set stays uint8.
  const images = ds.images instanceof Uint8Array ? new Uint8Array(indices.length * size) : new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < ds.n)) throw new Error(`dataset ${ds.source}: index ${i} is outside [0, ${ds.n})`);
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i];
  }
  return { ...ds, images, labels, n: indices.length, source };
}
