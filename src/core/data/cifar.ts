import * as fs from "node:fs";
import * as path from "node:path";
import { Dataset } from "./types";
import { writeFileAtomic } from "../io/files";
import { readRegularFile, readRegularText } from "../io/regularFile";

/**
 * CIFAR-10 / CIFAR-100 "binary version" (https://www.cs.toronto.edu/~kriz/cifar.html).
 * CIFAR-10 record: 1 label byte + 3072 pixel bytes (1024 R, 1024 G, 1024 B; rows of 32).
 * CIFAR-100 record: coarse label byte + fine label byte + 3072 pixel bytes.
 * The Python version is pickled and is never unpickled here (pickles execute code).
 */
export const CIFAR_SIDE = 32;
const PIXELS = CIFAR_SIDE * CIFAR_SIDE * 3;
/** Bytes of one CIFAR-10 record (label + pixels). */
export const CIFAR10_RECORD = 1 + PIXELS;

export const CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

export type CifarKind = "cifar10" | "cifar100";

export interface CifarFileOptions {
  kind: CifarKind;
  /** CIFAR-100 only: "fine" (100 classes, default) or "coarse" (20 superclasses). */
  labels?: "fine" | "coarse";
}

export function pickleError(where: string): Error {
  return new Error(
    `${where} looks like the Python (pickle) version of CIFAR; HyperAT never unpickles files (a pickle can run arbitrary code). ` +
      `Download the binary version instead (cifar-10-binary.tar.gz / cifar-100-binary.tar.gz: data_batch_1.bin ... test_batch.bin, or train.bin / test.bin).`,
  );
}

/** Parses one binary CIFAR file into HWC float pixels in [0,1] and labels. */
export function parseCifarBinary(bytes: Uint8Array, where: string, opts: CifarFileOptions): { images: Float32Array; labels: Int32Array; n: number } {
  const labelBytes = opts.kind === "cifar10" ? 1 : 2;
  const record = labelBytes + PIXELS;
  if (bytes.length === 0) throw new Error(`${where}: empty file`);
  if (bytes.length % record !== 0) {
    const whole = Math.floor(bytes.length / record);
    throw new Error(`${where}: ${bytes.length} bytes is not a whole number of ${record}-byte ${opts.kind} records (${whole} complete records + ${bytes.length - whole * record} bytes): truncated, or not ${opts.kind} binary?`);
  }
  const n = bytes.length / record;
  const maxLabel = opts.kind === "cifar10" ? 10 : opts.labels === "coarse" ? 20 : 100;
  const labelAt = opts.kind === "cifar10" ? 0 : opts.labels === "coarse" ? 0 : 1;
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  for (let i = 0; i < n; i++) {
    const base = i * record;
    const y = bytes[base + labelAt];
    if (y >= maxLabel) throw new Error(`${where}: record ${i} has label ${y}, outside [0, ${maxLabel}) for ${opts.kind}: not ${opts.kind} binary?`);
    labels[i] = y;
    const px = base + labelBytes;
    const out = i * PIXELS;
    for (let p = 0; p < plane; p++) {
      // CHW bytes → HWC floats
      images[out + 3 * p] = bytes[px + p] / 255;
      images[out + 3 * p + 1] = bytes[px + plane + p] / 255;
      images[out + 3 * p + 2] = bytes[px + 2 * plane + p] / 255;
    }
  }
  return { images, labels, n };
}

/** A CIFAR batch file is 30 MB (CIFAR-10) or 150 MB (CIFAR-100 train); refuse far larger ones. */
export const MAX_CIFAR_FILE_BYTES = 2 ** 30;

/** Class names from a meta text file (one per line) if present. */
async function readNames(file: string, count: number): Promise<string[]> {
  if (fs.existsSync(file)) {
    const text = await readRegularText(file, { what: "CIFAR class-name file", maxBytes: 2 ** 20 });
    const names = text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    if (names.length === count) return names;
  }
  return Array.from({ length: count }, (_, i) => `class_${i}`);
}

/** Which binary CIFAR files a directory holds; throws the pickle error for the Python version. */
export function detectCifarDir(dir: string): { kind: CifarKind; dir: string } | undefined {
  for (const d of [dir, path.join(dir, "cifar-10-batches-bin"), path.join(dir, "cifar-100-binary")]) {
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) continue;
    const names = new Set(fs.readdirSync(d));
    if ([...names].some((n) => /^data_batch_\d+\.bin$/.test(n)) || names.has("test_batch.bin")) return { kind: "cifar10", dir: d };
    if (names.has("train.bin") || names.has("test.bin")) return { kind: "cifar100", dir: d };
  }
  const base = path.basename(dir);
  const names = fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? new Set(fs.readdirSync(dir)) : new Set<string>();
  if (
    base === "cifar-10-batches-py" ||
    base === "cifar-100-python" ||
    names.has("cifar-10-batches-py") ||
    names.has("cifar-100-python") ||
    names.has("data_batch_1") ||
    names.has("test_batch") ||
    (names.has("train") && names.has("meta") && !fs.statSync(path.join(dir, "train")).isDirectory())
  ) {
    throw pickleError(dir);
  }
  return undefined;
}

/**
 * Loads a CIFAR split from a directory of binary files. `kind` overrides the guess from file
 * names (e.g. CIFAR-10 records saved as train.bin/test.bin).
 */
export async function loadCifarDir(dir: string, split: "train" | "test", opts: { labels?: "fine" | "coarse"; kind?: CifarKind } = {}): Promise<Dataset> {
  const detected = detectCifarDir(dir);
  if (!detected) throw new Error(`${dir}: no CIFAR binary files (data_batch_*.bin / test_batch.bin or train.bin / test.bin)`);
  // File names follow the layout found; records are parsed as `kind` when it is given.
  const names = fs.readdirSync(detected.dir).sort();
  const layout = detected.kind;
  const files =
    layout === "cifar10"
      ? split === "train"
        ? names.filter((n) => /^data_batch_\d+\.bin$/.test(n))
        : names.filter((n) => n === "test_batch.bin")
      : names.filter((n) => n === `${split}.bin`);
  if (files.length === 0) throw new Error(`${detected.dir}: no ${split} files for ${layout} (expected ${layout === "cifar10" ? (split === "train" ? "data_batch_*.bin" : "test_batch.bin") : `${split}.bin`})`);
  const kind = opts.kind ?? layout;
  return loadCifarFiles(files.map((f) => path.join(detected.dir, f)), { kind, labels: opts.labels }, `${detected.dir} (${split})`);
}

/** Loads and concatenates binary CIFAR files (class names from the meta file next to them). */
export async function loadCifarFiles(files: string[], opts: CifarFileOptions, source: string): Promise<Dataset> {
  const parts = [];
  for (const f of files) {
    if (!f.endsWith(".bin") && /(data_batch_\d+|test_batch)$/.test(f)) throw pickleError(f);
    // Regular files only: a FIFO named test_batch.bin blocked forever (core/io/regularFile.ts).
    parts.push(parseCifarBinary(await readRegularFile(f, { what: "CIFAR binary file", maxBytes: MAX_CIFAR_FILE_BYTES }), f, opts));
  }
  const n = parts.reduce((a, p) => a + p.n, 0);
  const images = new Float32Array(n * PIXELS);
  const labels = new Int32Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * PIXELS);
    labels.set(p.labels, at);
    at += p.n;
  }
  const dir = path.dirname(files[0]);
  const numClasses = opts.kind === "cifar10" ? 10 : opts.labels === "coarse" ? 20 : 100;
  let classNames: string[];
  if (opts.kind === "cifar10") {
    classNames = fs.existsSync(path.join(dir, "batches.meta.txt")) ? await readNames(path.join(dir, "batches.meta.txt"), 10) : [...CIFAR10_CLASSES];
  } else {
    classNames = await readNames(path.join(dir, opts.labels === "coarse" ? "coarse_label_names.txt" : "fine_label_names.txt"), numClasses);
  }
  return { images, labels, n, height: CIFAR_SIDE, width: CIFAR_SIDE, numClasses, classNames, source };
}

/** Encodes a 32×32 dataset as CIFAR-10 binary records (pixels rounded to bytes). */
export function encodeCifar10(ds: Dataset): Uint8Array {
  if (ds.height !== CIFAR_SIDE || ds.width !== CIFAR_SIDE) throw new Error(`${ds.source}: CIFAR binary needs 32x32 images, got ${ds.height}x${ds.width}`);
  if (ds.numClasses > 256) throw new Error(`${ds.source}: CIFAR-10 binary holds one label byte; ${ds.numClasses} classes do not fit`);
  const record = 1 + PIXELS;
  const plane = CIFAR_SIDE * CIFAR_SIDE;
  const out = new Uint8Array(ds.n * record);
  const byte = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  for (let i = 0; i < ds.n; i++) {
    const base = i * record;
    out[base] = ds.labels[i];
    const src = i * PIXELS;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[base + 1 + c * plane + p] = byte(ds.images[src + 3 * p + c]);
    }
  }
  return out;
}

/** Writes `file` (atomic) in CIFAR-10 binary format; `hyperat synth` uses it. */
export async function writeCifarBinary(file: string, ds: Dataset): Promise<void> {
  await writeFileAtomic(file, encodeCifar10(ds));
}

/** Writes batches.meta.txt (one class name per line), as the CIFAR-10 binary archive has. */
export async function writeCifarMeta(dir: string, classNames: string[]): Promise<void> {
  await writeFileAtomic(path.join(dir, "batches.meta.txt"), classNames.join("\n") + "\n");
}
