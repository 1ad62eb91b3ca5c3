/**
 * Image dimensions from the file header, without decoding: a decoder allocates width·height·4
 * bytes from what the header claims, so a 20000×20000 PNG (real, or a 100-byte file that only
 * says so) took 3.9 GB before anything could refuse it (issue 15). The kind comes from the
 * magic bytes, not the extension.
 *   PNG  (ISO/IEC 15948 §5.2, §11.2.2): 8-byte signature, then the IHDR chunk first:
 *        length(4) "IHDR" width(4, big-endian) height(4, big-endian) ...
 *   JPEG (ITU-T T.81 §B.1.1.3, B.2.2): FFD8, then marker segments FFxx + big-endian length;
 *        the frame header SOFn (C0–CF except C4 DHT, C8 JPG, CC DAC) holds
 *        precision(1) height(2) width(2).
 */
export interface ImageHeader {
  format: "png" | "jpeg";
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Default pixel limit of one image, width·height (40 megapixels: 160 MB decoded RGBA). */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;

/** The limit in effect: `HYPERAT_MAX_IMAGE_PIXELS` if set to a positive integer, else the default. */
export function maxImagePixels(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.HYPERAT_MAX_IMAGE_PIXELS;
  if (raw === undefined || raw === "") return DEFAULT_MAX_IMAGE_PIXELS;
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`HYPERAT_MAX_IMAGE_PIXELS=${JSON.stringify(raw)} must be a positive integer (pixels per image)`);
  return v;
}

function u16be(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];
}

function pngHeader(b: Uint8Array, where: string): ImageHeader {
  if (b.length < 24) throw new Error(`${where}: PNG is ${b.length} bytes, too short for its IHDR chunk (truncated)`);
  const type = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (type !== "IHDR") throw new Error(`${where}: PNG's first chunk is ${JSON.stringify(type)}, not IHDR (corrupt PNG)`);
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  if (width === 0 || height === 0) throw new Error(`${where}: PNG header says ${width}x${height} pixels (corrupt PNG)`);
  return { format: "png", width, height };
}

function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function jpegHeader(b: Uint8Array, where: string): ImageHeader {
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw new Error(`${where}: JPEG has no marker at byte ${at} (corrupt JPEG)`);
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++; // fill byte before a marker (T.81 §B.1.1.2)
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image / start of scan before any frame header
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2; // stand-alone markers carry no length
      continue;
    }
    const len = u16be(b, at + 2);
    if (len < 2) throw new Error(`${where}: JPEG segment at byte ${at} has length ${len} (corrupt JPEG)`);
    if (isSof(marker)) {
      if (at + 9 > b.length) break;
      const height = u16be(b, at + 5);
      const width = u16be(b, at + 7);
      if (width === 0 || height === 0) throw new Error(`${where}: JPEG frame header says ${width}x${height} pixels (unsupported or corrupt JPEG)`);
      return { format: "jpeg", width, height };
    }
    at += 2 + len;
  }
  throw new Error(`${where}: JPEG has no frame header (SOF) before its image data (truncated or corrupt JPEG)`);
}

/** Format and size of a PNG or JPEG held in `bytes`; errors name `where` and what is wrong. */
export function readImageHeader(bytes: Uint8Array, where: string): ImageHeader {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((v, i) => bytes[i] === v)) return pngHeader(bytes, where);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegHeader(bytes, where);
  if (bytes.length === 0) throw new Error(`${where}: empty file, not an image`);
  throw new Error(`${where}: not a PNG or JPEG file (unknown signature ${[...bytes.subarray(0, 4)].map((v) => v.toString(16).padStart(2, "0")).join(" ")})`);
}

/** The header, refused when width·height is over `maxPixels`. */
export function checkImageHeader(bytes: Uint8Array, where: string, maxPixels: number): ImageHeader {
  const h = readImageHeader(bytes, where);
  const pixels = h.width * h.height;
  if (pixels > maxPixels) {
    throw new Error(
      `${where}: ${h.format.toUpperCase()} is ${h.width}x${h.height} = ${(pixels / 1e6).toFixed(1)} megapixels, over the limit of ` +
        `${(maxPixels / 1e6).toFixed(1)} (decoding it would take ${((pixels * 4) / 2 ** 30).toFixed(2)} GiB); ` +
        `shrink the image, or raise the limit with the data spec's ?maxPixels= or HYPERAT_MAX_IMAGE_PIXELS`,
    );
  }
  return h;
}
