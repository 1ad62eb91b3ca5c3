import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { parseSafetensors, serializeSafetensors, SafetensorsContents, TensorToWrite } from "./safetensors";
import { readRegularFile } from "./regularFile";
import { makeDirs } from "./dirs";

/** The durable steps of an atomic write, in order. */
export type AtomicWritePhase = "fsync" | "rename" | "dirsync";

let atomicWriteHook: ((phase: AtomicWritePhase, file: string) => void) | undefined;

/**
 * Test seam: `hook` is called just before each durable step of every atomic write in this
 * process, so a crash test can kill the process exactly there (test/daemon/finishedRuns.test.ts).
 * Pass undefined to remove it.
 */
export function setAtomicWriteHook(hook: ((phase: AtomicWritePhase, file: string) => void) | undefined): void {
  atomicWriteHook = hook;
}

/** The temp name next to `file`: dot-prefixed so run listings skip it, `.tmp` so the stale-temp
 * cleanup (daemon/runStore.ts removeStaleTempFiles) finds it after a crash. */
function tempNameFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Writes `data` so that readers see either the old file or the complete new one, never a torn
 * write: temp file in the same directory (rename is atomic only within one filesystem), fsync,
 * rename, then fsync the directory so the rename itself survives a crash.
 */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await makeDirs(dir); // not fs.mkdir({ recursive }): that spins forever below /proc (dirs.ts)
  const tmp = tempNameFor(file);
  const handle = await fs.open(tmp, "w");
  try {
    await handle.writeFile(data);
    atomicWriteHook?.("fsync", file);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  await commit(tmp, file);
}

/** Copies `src` to `dst` with the same guarantee as writeFileAtomic (large files are not read
 * into memory). */
export async function copyFileAtomic(src: string, dst: string): Promise<void> {
  await fs.mkdir(path.dirname(dst), { recursive: true });
  const tmp = tempNameFor(dst);
  try {
    await fs.copyFile(src, tmp);
    const handle = await fs.open(tmp, "r+");
    try {
      atomicWriteHook?.("fsync", dst);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await commit(tmp, dst);
}

async function commit(tmp: string, file: string): Promise<void> {
  try {
    atomicWriteHook?.("rename", file);
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  atomicWriteHook?.("dirsync", file);
  await syncDir(path.dirname(file));
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
