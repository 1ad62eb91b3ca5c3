import * as fs from "node:fs";
import * as path from "node:path";
import { Jimp } from "jimp";
import { Dataset } from "./types";
import { checkImageHeader, maxImagePixels } from "./imageHeader";
import { readRegularFile } from "../io/regularFile";

/**
 * `root/<class>/*.png|jpg|jpeg` → a Dataset. Classes are the sub-directory names sorted
 * (label = index), files sorted within a class so the sample order is reproducible. Images are
 * decoded and resized (bilinear) with jimp, a pure-JS library that installs from npm alone.
 * Bounded: each file must be a regular file (a FIFO would block), its header is read first and
 * an image over `maxPixels` is refused before the decoder allocates for it, and the set is kept
 * as uint8 (a quarter of float32) until a batch is formed (data/types.ts PixelArray).
 */
const IMAGE_EXT = /\.(png|jpe?g)$/i;

export interface ImageFolderOptions {
  /** Output side (images are resized to size×size). Default 32. */
  size?: number;
  /** Keep at most this many images (in class-then-file order). */
  limit?: number;
  /** Refuse an image with more pixels (width·height). Default HYPERAT_MAX_IMAGE_PIXELS or 40 M. */
  maxPixels?: number;
}

/** A compressed image file larger than this is refused before it is read. */
const MAX_IMAGE_FILE_BYTES = 512 * 2 ** 20;

export function listImageFolder(root: string): { classNames: string[]; files: Array<{ file: string; label: number }> } {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new Error(`${root}: not a directory`);
  const classNames = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
  if (classNames.length === 0) throw new Error(`${root}: no class sub-directories (expected root/<class>/*.png|jpg)`);
  const files: Array<{ file: string; label: number }> = [];
  classNames.forEach((c, label) => {
    const names = fs.readdirSync(path.join(root, c)).filter((f) => IMAGE_EXT.test(f)).sort();
    for (const f of names) files.push({ file: path.join(root, c, f), label });
  });
  if (files.length === 0) throw new Error(`${root}: no .png/.jpg/.jpeg images in its ${classNames.length} class folders`);
  return { classNames, files };
}

export async function loadImageFolder(root: string, opts: ImageFolderOptions = {}): Promise<Dataset> {
  const size = opts.size ?? 32;
  const { classNames, files: all } = listImageFolder(root);
  const files = opts.limit !== undefined ? all.slice(0, opts.limit) : all;
  const maxPixels = opts.maxPixels ?? maxImagePixels();
  const per = size * size * 3;
  const images = new Uint8Array(files.length * per);
  const labels = new Int32Array(files.length);
  for (let i = 0; i < files.length; i++) {
    const { file, label } = files[i];
    const bytes = await readRegularFile(file, { what: "image", maxBytes: MAX_IMAGE_FILE_BYTES });
    checkImageHeader(bytes, file, maxPixels);
    let img;
    try {
      // jpeg-js has its own limits; keep them no looser than ours (progressive or odd files).
      img = await Jimp.fromBuffer(bytes, { "image/jpeg": { maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 4) / 2 ** 20) + 64 } });
    } catch (e) {
      throw new Error(`${file}: cannot decode image (${(e as Error).message.split("\n")[0]})`);
    }
    if (img.bitmap.width !== size || img.bitmap.height !== size) img.resize({ w: size, h: size });
    const rgba = img.bitmap.data;
    for (let p = 0; p < size * size; p++) {
      for (let c = 0; c < 3; c++) images[i * per + 3 * p + c] = rgba[4 * p + c];
    }
    labels[i] = label;
  }
  return { images, labels, n: files.length, height: size, width: size, numClasses: classNames.length, classNames, source: root };
}
