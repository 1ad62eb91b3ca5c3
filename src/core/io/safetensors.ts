/**
 * The safetensors format (huggingface/safetensors): 8-byte little-endian u64 header length N,
 * N bytes of UTF-8 JSON `{ "__metadata__": {string: string}, name: {dtype, shape,
 * data_offsets: [begin, end]} }`, then the raw little-endian tensor bytes. Offsets are relative
 * to the start of the data region. Files are untrusted input: every field is checked before a
 * byte of tensor data is read, and every error names the file and the tensor.
 */
import { duplicateJsonKey } from "./jsonKeys";

export interface SafeTensor {
  /** dtype as stored in the file (F32, F16, BF16, ...); `data` is always float32. */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents {
  tensors: Record<string, SafeTensor>;
  metadata: Record<string, string>;
}

export interface TensorToWrite {
  shape: number[];
  /** Stored as F32, I32 or U8 after the array's type (U8 keeps images small: adversarial
   * examples, src/core/evaluate/examplesFile.ts). */
  data: Float32Array | Int32Array | Uint8Array;
}

const dtypeOf = (data: TensorToWrite["data"]): "F32" | "I32" | "U8" =>
  data instanceof Float32Array ? "F32" : data instanceof Int32Array ? "I32" : "U8";

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of the dtypes we can read (all are upcast to float32). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export class SafetensorsError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`);
    this.name = "SafetensorsError";
  }
}

/** IEEE 754 half → float (subnormals, infinities and NaN included). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let f16Table: Float32Array | undefined;
/** All 65536 half values, built once: large F16 checkpoints decode by table lookup. */
function f16Lookup(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16ToF32(h);
  }
  return f16Table;
}

/** bfloat16 is the top half of a float32. */
function bf16ToF32(view: DataView, off: number, scratch: DataView): number {
  scratch.setUint32(0, view.getUint16(off, true) << 16, true);
  return scratch.getFloat32(0, true);
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decode(dtype: string, bytes: Uint8Array, begin: number, count: number): Float32Array {
  if (dtype === "F32" && hostIsLittleEndian) {
    // Copy to a fresh, aligned buffer: the source offset need not be a multiple of 4. (Not
    // `bytes.slice`: on a Node Buffer that is a view of the shared pool, not a copy.)
    const copy = new Uint8Array(4 * count);
    copy.set(bytes.subarray(begin, begin + 4 * count));
    return new Float32Array(copy.buffer);
  }
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, count * DTYPE_BYTES[dtype]);
  if (dtype === "F16") {
    const table = f16Lookup();
    for (let i = 0; i < count; i++) out[i] = table[view.getUint16(2 * i, true)];
    return out;
  }
  const scratch = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case "F32": out[i] = view.getFloat32(4 * i, true); break;
      case "F64": out[i] = view.getFloat64(8 * i, true); break;
      case "F16": out[i] = f16ToF32(view.getUint16(2 * i, true)); break;
      case "BF16": out[i] = bf16ToF32(view, 2 * i, scratch); break;
      case "I64": out[i] = Number(view.getBigInt64(8 * i, true)); break;
      case "I32": out[i] = view.getInt32(4 * i, true); break;
      case "I16": out[i] = view.getInt16(2 * i, true); break;
      case "I8": out[i] = view.getInt8(i); break;
      case "U8": out[i] = view.getUint8(i); break;
      case "BOOL": out[i] = view.getUint8(i) ? 1 : 0; break;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Reads and checks the header; returns entries and metadata without touching tensor data.
 * `fileLength` is the whole file's size when `bytes` holds only its start (header-only reads).
 */
function parseHeader(bytes: Uint8Array, where: string, fileLength = bytes.length): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  const fail = (m: string): never => {
    throw new SafetensorsError(where, m);
  };
  if (fileLength < 8 || bytes.length < 8) fail(`file is ${fileLength} bytes, too short for the 8-byte safetensors header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const headerLen = Number(n);
  if (8 + headerLen > Math.min(bytes.length, fileLength)) {
    fail(`header length ${headerLen} runs past the end of the file (${fileLength} bytes): truncated or not safetensors`);
  }
  let json: unknown;
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message.split("\n")[0]})`);
  }
  // JSON.parse would keep the last of two equal keys (e.g. a second "__metadata__" changing
  // num_heads); the reference implementation refuses them, and so do we.
  const dup = duplicateJsonKey(text);
  if (dup !== undefined) fail(`header has the key ${JSON.stringify(dup)} (JSON pointer) twice; a file with duplicate keys is ambiguous`);
  if (!isPlainObject(json)) fail("header must be a JSON object");
  const header = json as Record<string, unknown>;
  const dataStart = 8 + headerLen;
  const dataLen = fileLength - dataStart;

  const metadata: Record<string, string> = {};
  const meta = header["__metadata__"];
  if (meta !== undefined) {
    if (!isPlainObject(meta)) fail(`"__metadata__" must be an object of strings`);
    for (const [k, v] of Object.entries(meta as Record<string, unknown>)) {
      if (k === "__proto__") fail(`"__metadata__" has the forbidden key "__proto__"`);
      if (typeof v !== "string") fail(`"__metadata__"."${k}" must be a string, got ${JSON.stringify(v)}`);
      metadata[k] = v as string;
    }
  }

  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const bad = (m: string): never => fail(`tensor "${name}": ${m}`);
    if (name === "__proto__") bad("forbidden tensor name");
    if (!isPlainObject(raw)) bad("entry must be an object with dtype, shape, data_offsets");
    const e = raw as Record<string, unknown>;
    const dtype = e.dtype;
    if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
      bad(`unsupported dtype ${JSON.stringify(dtype)} (readable: ${Object.keys(DTYPE_BYTES).join(", ")})`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every(isNonNegInt)) bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) {
      bad(`data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (begin > end) bad(`data_offsets [${begin}, ${end}] are reversed`);
    if (end > dataLen) bad(`data_offsets [${begin}, ${end}] run past the data region (${dataLen} bytes): truncated file?`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const want = numel * DTYPE_BYTES[dtype as string];
    if (end - begin !== want) {
      bad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} [${(shape as number[]).join(", ")}] needs ${want}`);
    }
    entries.push({ name, dtype: dtype as string, shape: shape as number[], begin, end });
  }

  // The reference implementation requires the tensors to tile the data region exactly:
  // no overlaps (two names aliasing bytes) and no gaps (hidden payloads).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin < pos) fail(`tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${pos})`);
    if (e.begin > pos) fail(`tensor "${e.name}": data_offsets start at ${e.begin}, leaving a gap after byte ${pos}`);
    pos = e.end;
  }
  if (pos !== dataLen) fail(`tensors cover ${pos} bytes of a ${dataLen}-byte data region (trailing bytes)`);
  return { entries, metadata, dataStart };
}

/** Parses a safetensors file held in memory; `where` (usually the path) prefixes every error. */
export function parseSafetensors(bytes: Uint8Array, where: string): SafetensorsContents {
  const { entries, metadata, dataStart } = parseHeader(bytes, where);
  const tensors: Record<string, SafeTensor> = {};
  for (const e of entries) {
    const count = (e.end - e.begin) / DTYPE_BYTES[e.dtype];
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decode(e.dtype, bytes, dataStart + e.begin, count) };
  }
  return { tensors, metadata };
}

/**
 * Header only: names, dtypes and shapes (for `inspect`-style listings of large files). `bytes`
 * may be just the file's first 8 + header-length bytes when `fileLength` gives the full size.
 */
export function readSafetensorsHeader(bytes: Uint8Array, where: string, fileLength = bytes.length): { tensors: Record<string, { dtype: string; shape: number[] }>; metadata: Record<string, string> } {
  const { entries, metadata } = parseHeader(bytes, where, fileLength);
  const tensors: Record<string, { dtype: string; shape: number[] }> = {};
  for (const e of entries) tensors[e.name] = { dtype: e.dtype, shape: e.shape };
  return { tensors, metadata };
}

/**
 * Serializes F32/I32/U8 tensors. As the reference orders them: by alignment (element size, largest
 * first), then by name, so all-F32 files are in name order; the JSON is space-padded to a multiple
 * of 8 bytes, as the reference does, so the data region starts 8-byte aligned.
 */
export function serializeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const size = (name: string) => DTYPE_BYTES[dtypeOf(tensors[name].data)];
  const names = Object.keys(tensors).sort((a, b) => size(b) - size(a) || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new Error(`safetensors metadata "${k}" must be a string, got ${typeof v}`);
    }
    header["__metadata__"] = metadata;
  }
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") throw new Error(`"__metadata__" is reserved and cannot name a tensor`);
    const { shape, data } = tensors[name];
    if (!shape.every((d) => isNonNegInt(d))) throw new Error(`tensor "${name}": bad shape [${shape.join(", ")}]`);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (data.length !== numel) throw new Error(`tensor "${name}": ${data.length} values for shape [${shape.join(", ")}] (${numel})`);
    const bytes = DTYPE_BYTES[dtypeOf(data)] * numel;
    header[name] = { dtype: dtypeOf(data), shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const name of names) {
    const data = tensors[name].data;
    if (hostIsLittleEndian || data instanceof Uint8Array) out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    else if (data instanceof Int32Array) for (let i = 0; i < data.length; i++) view.setInt32(pos + 4 * i, data[i], true);
    else for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i], true);
    pos += data.byteLength;
  }
  return out;
}
