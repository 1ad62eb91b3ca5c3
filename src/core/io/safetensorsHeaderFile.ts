import { MAX_HEADER_BYTES, readSafetensorsHeader } from "./safetensors";
import { defaultStallMs, openRegularFile, withStallTimeout } from "./regularFile";
/**
 * Names, dtypes and shapes of a safetensors file, reading only its header: a ViT-L checkpoint
 * is 1.2 GB, its header a few kB. What the memory plan needs before any weight is loaded
 * (docs/memory.md) and the up-front check of `model.path` (src/daemon/preflight.ts). Non-blocking
 * open, a kind check and time-bound reads, as core/io/regularFile.ts explains.
 */
export async function readSafetensorsHeaderFile(file: string): Promise<{ tensors: Record<string, { dtype: string; shape: number[] }>; metadata: Record<string, string> }> {
  const { handle, size } = await openRegularFile(file, { what: "safetensors model file" });
  // Each read is time-bound like readRegularFile's (a dead network mount must not hang a start).
  const read = (buf: Buffer, at: number, n: number, pos: number) => withStallTimeout(handle.read(buf, at, n, pos), defaultStallMs(), file);
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await read(head, 0, 8, 0);
    if (bytesRead < 8) return readSafetensorsHeader(head.subarray(0, bytesRead), file, size);
    const len = head.readBigUInt64LE(0);
    // Let the parser word the errors (too long, past the end); read no more than it can accept.
    const want = len > BigInt(MAX_HEADER_BYTES) || Number(len) + 8 > size ? 8 : 8 + Number(len);
    const bytes = Buffer.alloc(want);
    head.copy(bytes, 0, 0, 8);
    if (want > 8 && (await read(bytes, 8, want - 8, 8)).bytesRead !== want - 8) throw new Error(`${file}: the file shrank while its header was read`);
    return readSafetensorsHeader(bytes, file, size);
  } finally {
    await handle.close();
  }
}
