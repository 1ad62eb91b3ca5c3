import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { parseSafetensors, serializeSafetensors, SafetensorsContents, TensorToWrite } from "./safetensors";
import { readRegularFile } from "./regularFile";
import { makeDirs } from "./dirs";

/**
 * Writes `data` so that readers see either the old file or the complete new one, never a torn
 * write: temp file in the same directory (rename is atomic only within one filesystem), fsync,
 * rename, then fsync the directory so the rename itself survives a crash.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await makeDirs(dir); // not fs.mkdir({ recursive }): that spins forever below /proc (dirs.ts)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
}

async function syncDir(dir: string): Promise<void> {
  // Directory fsync is not supported everywhere (Windows); the rename already happened.
  try {
    const h = await fs.open(dir, "r");
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    /* best effort */
  }
}

export async function readSafetensorsFile(file: string): Promise<SafetensorsContents> {
  // Regular files only: a FIFO or /dev/zero would block or never end (core/io/regularFile.ts).
  return parseSafetensors(await readRegularFile(file, { what: "safetensors file" }), file);
}

export async function writeSafetensorsFile(
  file: string,
  tensors: Record<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}
