import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

/**
 * `mkdir -p` that cannot spin. Node's own `fs.mkdir(dir, { recursive: true })` loops forever
 * under /proc (the kernel answers ENOENT for /proc/x while /proc exists, so it retries without
 * end, at full CPU): a cache folder below /proc hung a run for good (issue 15). This walks up to
 * the nearest existing folder and creates each missing level once; any error is final.
 */
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; ) {
    const st = await fs.stat(d).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined; // ENOTDIR: a file above; found next
      throw new Error(`cannot create folder ${dir}: ${d}: ${e.code ?? e.message}`);
    });
    if (st) {
      if (!st.isDirectory()) throw new Error(`cannot create folder ${dir}: ${d} exists and is not a folder`);
      break;
    }
    missing.push(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && (await fs.stat(d).catch(() => undefined))?.isDirectory()) continue; // made by someone else meanwhile
      throw new Error(`cannot create folder ${dir}: ${d}: ${code ?? (e as Error).message}`);
    }
  }
}

/**
 * Proves that files can be created in `dir` (creating it if needed) by writing and removing a
 * probe file, so work whose only output goes there fails before it starts, not after: a
 * `model.pretrain.cacheDir` of /proc let clean pretraining run for minutes and then lose its
 * result at the final write (issue 15). `what` names the setting in the error.
 */
export async function assertWritableDir(dir: string, what: string): Promise<void> {
  const fail = (why: string): never => {
    throw new Error(`${what} ${dir} is not a writable folder (${why}); choose a folder this process can create files in`);
  };
  try {
    await makeDirs(dir);
  } catch (e) {
    fail((e as Error).message);
  }
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) fail("not a directory");
  const probe = path.join(dir, `.hyperat-write-probe.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(probe, "wx");
    await handle.write("probe");
  } catch (e) {
    fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    await handle?.close().catch(() => {});
    await fs.rm(probe, { force: true }).catch(() => {});
  }
}
