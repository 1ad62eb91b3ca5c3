import * as fs from "node:fs";
import * as path from "node:path";
import { checkDataSpec, CheckedSpec } from "../core/data/spec";
import { CIFAR10_RECORD, CifarKind, detectCifarDir, MAX_CIFAR_FILE_BYTES, pickleError } from "../core/data/cifar";
import { listImageFolder } from "../core/data/imageFolder";
import { fileKind } from "../core/io/regularFile";
import { checkImageHeader, maxImagePixels, readImageHeader } from "../core/data/imageHeader";

/**
 * How many samples a data spec names, found from its index alone: file sizes for CIFAR (fixed
 * records), the file list for an image folder, the parameters for the synthetic set. No pixel is
 * read, so `hyperat check` and a run start are fast, and a spec that would fail or exhaust memory
 * in the loader (src/core/data/spec.ts loadDataSpec) fails here first, before a run folder exists.
 */
export interface DataFacts {
  kind: "synthetic" | "cifar10" | "cifar100" | "image-folder";
  /** Samples the spec selects (after n and offset). */
  samples: number;
  /** Samples in the whole source. */
  available: number;
  /** What was counted: a generator name, files or a folder. */
  source: string;
}

/**
 * The synthetic generator materializes n float32 images of 32×32×3 (12 KiB each), so n=1e9
 * asked for 12 TB and surfaced as "Invalid typed array length" (issue 15). 250 000 images are
 * 3 GB, already more than most machines give one process for data.
 */
export const SYNTHETIC_MAX_N = 250_000;

const CIFAR100_RECORD = CIFAR10_RECORD + 1;

/**
 * Image folders are decoded into one uint8 buffer of n·size²·3 bytes (src/core/data/imageFolder.ts);
 * past 4 GiB that buffer cannot be allocated, and `size=100000` would ask for 30 GB per image.
 */
export const IMAGE_FOLDER_MAX_BYTES = 4 * 2 ** 30;
export const IMAGE_MAX_SIZE = 4096;

/** Counts what `spec` selects for `split`; throws naming the spec (the caller adds the JSON path). */
export function dataFacts(spec: string, split: "train" | "test"): DataFacts {
  const c = checkDataSpec(spec, split);
  if (c.parsed.kind === "synthetic") {
    if (c.offset + c.n! > SYNTHETIC_MAX_N) {
      throw new Error(`data spec "${spec}": n=${c.n}${c.offset ? ` from offset=${c.offset}` : ""} is over the synthetic set's limit of ${SYNTHETIC_MAX_N} samples (float32 images, 12 KiB each)`);
    }
    return { kind: "synthetic", samples: c.n!, available: SYNTHETIC_MAX_N, source: `synthetic:${c.parsed.target}` };
  }
  const resolved = path.resolve(c.parsed.target);
  let st: fs.Stats;
  try {
    st = fs.statSync(resolved);
  } catch {
    throw new Error(`data spec "${spec}": ${resolved} does not exist`);
  }
  if (st.isFile()) return windowed(spec, c, cifarFile(spec, c, resolved, st));
  if (!st.isDirectory()) throw new Error(`data spec "${spec}": ${resolved} is a ${fileKind(st)}; data must be a regular file or a directory`);
  let cifar: ReturnType<typeof detectCifarDir>;
  try {
    cifar = detectCifarDir(resolved);
  } catch (e) {
    throw new Error(`data spec "${spec}": ${(e as Error).message}`);
  }
  if (cifar) return windowed(spec, c, cifarDir(spec, c, cifar, split));
  if (c.format !== undefined) throw new Error(`data spec "${spec}": format=${c.format} given, but ${resolved} holds no CIFAR .bin files`);
  const hasSplits = fs.existsSync(path.join(resolved, "train")) && fs.existsSync(path.join(resolved, "test"));
  const root = hasSplits ? path.join(resolved, split) : resolved;
  let list: string[];
  try {
    list = listImageFolder(root).files.map((f) => f.file);
  } catch (e) {
    throw new Error(`data spec "${spec}": ${(e as Error).message}`);
  }
  const files = list.length;
  const facts = windowed(spec, c, { kind: "image-folder", samples: files, available: files, source: root });
  // The loader reads the first offset+n files (src/core/data/spec.ts): one that is a FIFO, a
  // device or a socket would fail it after the run folder exists, so it fails here (one stat each).
  for (const f of list.slice(0, c.n !== undefined ? c.offset + c.n : undefined)) {
    const fst = fs.statSync(f, { throwIfNoEntry: false });
    if (!fst) throw new Error(`data spec "${spec}": ${f} does not exist (a dangling link?)`);
    if (!fst.isFile()) throw new Error(`data spec "${spec}": ${f} is a ${fileKind(fst)}; an image must be a regular file`);
    checkImageFileHeader(spec, f, fst.size, c.maxPixels ?? maxImagePixels());
  }
  const size = c.size ?? 32;
  if (size > IMAGE_MAX_SIZE) throw new Error(`data spec "${spec}": size=${size} is over the ${IMAGE_MAX_SIZE}-pixel limit for the output side`);
  const bytes = facts.samples * size * size * 3;
  if (bytes > IMAGE_FOLDER_MAX_BYTES) {
    throw new Error(`data spec "${spec}": ${facts.samples} images at size=${size} need ${(bytes / 2 ** 30).toFixed(1)} GiB as uint8, over the ${IMAGE_FOLDER_MAX_BYTES / 2 ** 30} GiB limit; lower n= or size=`);
  }
  return facts;
}

/**
 * Enough of an image for its size: a PNG's IHDR is in its first 33 bytes, a JPEG's frame header
 * follows its APP segments (JFIF files have it in the first few hundred bytes). 4 KiB per file
 * keeps a pass over a 50 000-image folder at about 200 MB of reads.
 */
const IMAGE_HEAD_BYTES = 4096;

/**
 * A header over the pixel limit (src/core/data/imageHeader.ts) or a file that is no PNG/JPEG
 * fails the pass, naming the file, instead of the loader after a run folder exists (a
 * 20000×20000 PNG, issue 15). A JPEG whose frame header lies past the bytes read here (a large
 * EXIF block) is left to the loader, which reads the whole file.
 */
function checkImageFileHeader(spec: string, file: string, size: number, maxPixels: number): void {
  const head = Buffer.alloc(Math.min(size, IMAGE_HEAD_BYTES));
  // O_NONBLOCK: the file was a regular one at stat time; if it was swapped for a FIFO since, open must not wait for a writer.
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  let got: number;
  try {
    got = fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const bytes = head.subarray(0, got);
  const partialJpeg = got < size && bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    readImageHeader(bytes, file);
  } catch (e) {
    if (partialJpeg) return;
    throw new Error(`data spec "${spec}": ${(e as Error).message}`);
  }
  try {
    checkImageHeader(bytes, file, maxPixels);
  } catch (e) {
    throw new Error(`data spec "${spec}": ${(e as Error).message}`);
  }
}

function recordBytes(kind: CifarKind): number {
  return kind === "cifar10" ? CIFAR10_RECORD : CIFAR100_RECORD;
}

/** Records in one CIFAR binary file, from its size (the loader refuses a partial record too). */
function cifarRecords(spec: string, file: string, st: fs.Stats, kind: CifarKind): number {
  if (!st.isFile()) throw new Error(`data spec "${spec}": ${file} is a ${fileKind(st)}, expected a regular CIFAR binary file`);
  if (st.size > MAX_CIFAR_FILE_BYTES) throw new Error(`data spec "${spec}": ${file} is ${st.size} bytes, over the ${MAX_CIFAR_FILE_BYTES}-byte limit for a CIFAR batch file (CIFAR-100's train.bin is 150 MB)`);
  const rec = recordBytes(kind);
  if (st.size === 0 || st.size % rec !== 0) {
    throw new Error(`data spec "${spec}": ${file} is ${st.size} bytes, not a whole number of ${kind} records (${rec} bytes each)${kind === "cifar100" && st.size % CIFAR10_RECORD === 0 ? "; add ?format=cifar10 to read CIFAR-10 records" : ""}`);
  }
  return st.size / rec;
}

function cifarFile(spec: string, c: CheckedSpec, file: string, st: fs.Stats): DataFacts {
  const base = path.basename(file);
  if (!base.endsWith(".bin")) {
    if (/^(data_batch_\d+|test_batch|train|test)$/.test(base)) throw new Error(`data spec "${spec}": ${pickleError(file).message}`);
    throw new Error(`data spec "${spec}": ${file} is a file but not a CIFAR .bin file`);
  }
  // As the loader guesses: train.bin/test.bin are CIFAR-100's names (src/core/data/spec.ts).
  const kind = c.format ?? (base === "train.bin" || base === "test.bin" ? "cifar100" : "cifar10");
  const n = cifarRecords(spec, file, st, kind);
  return { kind, samples: n, available: n, source: file };
}

function cifarDir(spec: string, c: CheckedSpec, found: { kind: CifarKind; dir: string }, split: "train" | "test"): DataFacts {
  const names = fs.readdirSync(found.dir).sort();
  const files =
    found.kind === "cifar10"
      ? names.filter((n) => (split === "train" ? /^data_batch_\d+\.bin$/.test(n) : n === "test_batch.bin"))
      : names.filter((n) => n === `${split}.bin`);
  if (files.length === 0) {
    const want = found.kind === "cifar10" ? (split === "train" ? "data_batch_*.bin" : "test_batch.bin") : `${split}.bin`;
    throw new Error(`data spec "${spec}": ${found.dir} has no ${split} files for ${found.kind} (expected ${want})`);
  }
  const kind = c.format ?? found.kind;
  let n = 0;
  for (const f of files) {
    const file = path.join(found.dir, f);
    n += cifarRecords(spec, file, fs.statSync(file), kind);
  }
  return { kind, samples: n, available: n, source: `${found.dir} (${split})` };
}

/** The loader's window rule (spec.ts `window`): without an offset a larger n keeps the whole set. */
function windowed(spec: string, c: CheckedSpec, facts: DataFacts): DataFacts {
  const total = facts.available;
  if (c.offset === 0 && (c.n === undefined || c.n >= total)) return facts;
  if (c.offset >= total) throw new Error(`data spec "${spec}": offset=${c.offset} is past the end of ${facts.source} (${total} samples)`);
  const count = c.n ?? total - c.offset;
  if (c.offset + count > total) throw new Error(`data spec "${spec}": samples [${c.offset}, ${c.offset + count}) are outside ${facts.source} (${total} samples)`);
  return { ...facts, samples: count };
}
