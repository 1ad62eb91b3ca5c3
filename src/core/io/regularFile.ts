import * as fs from "node:fs/promises";
import { constants } from "node:fs";
import { constants as bufferConstants } from "node:buffer";

/**
 * Models and data are read only from regular files. A FIFO blocks `open` until a writer comes
 * (and a blocked open holds one of libuv's four threadpool threads for good), `/dev/zero` and
 * `/dev/urandom` never end, a socket cannot be read at all: each hung `hyperat eval` until it
 * was killed (issue 15). So the file is opened non-blocking (a FIFO opens at once, a regular
 * file reads the same), its kind is checked on the open descriptor (no race with a rename),
 * and every read chunk must finish within a stall timeout (a dead network mount).
 */

/** The file a model or data reader was pointed at is not a regular file. */
export class NotRegularFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: string,
    what: string,
  ) {
    super(`${file}: expected a regular file (${what}), found a ${kind}`);
    this.name = "NotRegularFileError";
  }
}

/** A read made no progress within the stall timeout. */
export class ReadStallError extends Error {
  constructor(
    readonly file: string,
    readonly ms: number,
  ) {
    super(`${file}: reading stalled (no data for ${(ms / 1000).toFixed(0)} s): a dead network mount or a device?`);
    this.name = "ReadStallError";
  }
}

export interface ReadRegularOptions {
  /** What the file is, for messages ("safetensors file", "CIFAR batch", "image"). Default "file". */
  what?: string;
  /** Refuse larger files (before allocating). Default: the largest Buffer Node can hold. */
  maxBytes?: number;
  /** Longest wait for one chunk of data, ms. Default 60 s (env HYPERAT_READ_STALL_MS). */
  stallMs?: number;
}

/** Bytes read per chunk (each chunk gets the full stall timeout). */
const CHUNK = 64 * 2 ** 20;

export function defaultStallMs(): number {
  const env = Number(process.env.HYPERAT_READ_STALL_MS);
  return Number.isFinite(env) && env > 0 ? env : 60_000;
}

/** Names what a stat describes, for the error message. */
export function fileKind(st: { isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isSymbolicLink(): boolean }): string {
  if (st.isFile()) return "regular file";
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "FIFO (named pipe)";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  if (st.isSocket()) return "socket";
  if (st.isSymbolicLink()) return "symbolic link";
  return "special file";
}

/** Rejects `p` with ReadStallError unless it settles within `ms`. */
export function withStallTimeout<T>(p: Promise<T>, ms: number, file: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const stall = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ReadStallError(file, ms)), ms);
  });
  return Promise.race([p, stall]).finally(() => clearTimeout(timer));
}

/** Opens `file` for reading if, and only if, it is a regular file. The caller closes it. */
export async function openRegularFile(file: string, opts: ReadRegularOptions = {}): Promise<{ handle: fs.FileHandle; size: number }> {
  const what = opts.what ?? "file";
  const stallMs = opts.stallMs ?? defaultStallMs();
  let handle: fs.FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking (POSIX).
    handle = await withStallTimeout(fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)), stallMs, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Linux answers ENXIO for open(2) on a Unix socket (and a FIFO opened for writing).
    if (code === "ENXIO") throw new NotRegularFileError(file, "socket or other special file", what);
    if (e instanceof ReadStallError) throw e;
    throw new Error(`cannot read ${what} ${file}: ${code ?? (e as Error).message}`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotRegularFileError(file, fileKind(st), what);
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/**
 * The whole content of a regular file, read in chunks under the stall timeout. A file that
 * shrinks while it is read is an error (a truncated read would parse as a truncated file).
 */
export async function readRegularFile(file: string, opts: ReadRegularOptions = {}): Promise<Buffer> {
  const what = opts.what ?? "file";
  const stallMs = opts.stallMs ?? defaultStallMs();
  const maxBytes = opts.maxBytes ?? bufferConstants.MAX_LENGTH;
  const { handle, size } = await openRegularFile(file, opts);
  let stalled = false;
  try {
    if (size > maxBytes) {
      throw new Error(`${file}: ${what} is ${size} bytes, over the ${maxBytes}-byte limit for reading it into memory`);
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const want = Math.min(CHUNK, size - at);
      let got: number;
      try {
        ({ bytesRead: got } = await withStallTimeout(handle.read(out, at, want, at), stallMs, file));
      } catch (e) {
        stalled = e instanceof ReadStallError;
        throw e;
      }
      if (got === 0) throw new Error(`${file}: ${what} shrank from ${size} to ${at} bytes while it was read`);
      at += got;
    }
    return out;
  } finally {
    // After a stall the pending read still owns the descriptor; close it when that read ends.
    if (stalled) void handle.close().catch(() => {});
    else await handle.close();
  }
}

/** UTF-8 text of a regular file (small side files: class-name lists and the like). */
export async function readRegularText(file: string, opts: ReadRegularOptions = {}): Promise<string> {
  return (await readRegularFile(file, opts)).toString("utf8");
}
