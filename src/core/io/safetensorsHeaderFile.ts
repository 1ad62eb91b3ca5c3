import * as fs from "node:fs/promises";
import { constants } from "node:fs";
import { MAX_HEADER_BYTES, parseSafetensorsHeaderPrefix, SafetensorsError } from "./safetensors";
import { NotRegularFileError } from "./regularFile";

/**
 * Names, dtypes and shapes of a safetensors file, reading only its header: a ViT-L checkpoint
 * is 1.2 GB, its header a few kB. What the memory plan needs before any weight is loaded
 * (docs/memory.md). Non-blocking open and a kind check, as core/io/regularFile.ts explains.
 */
export async function readSafetensorsHeaderFile(file: string): Promise<{ tensors: Record<string, { dtype: string; shape: number[] }>; metadata: Record<string, string> }> {
  const h = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new NotRegularFileError(file, st.isDirectory() ? "directory" : st.isFIFO() ? "FIFO" : "special file", "safetensors file");
    const len = Buffer.alloc(8);
    const { bytesRead } = await h.read(len, 0, 8, 0);
    if (bytesRead < 8) throw new SafetensorsError(file, `file is ${st.size} bytes, too short for the 8-byte safetensors header length`);
    const n = len.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
    const headerLen = Math.min(Number(n), Math.max(0, st.size - 8));
    const prefix = Buffer.alloc(8 + headerLen);
    len.copy(prefix, 0);
    await h.read(prefix, 8, headerLen, 8);
    return parseSafetensorsHeaderPrefix(new Uint8Array(prefix.buffer, prefix.byteOffset, prefix.length), st.size, file);
  } finally {
    await h.close();
  }
}
