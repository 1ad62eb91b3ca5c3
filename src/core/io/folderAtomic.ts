import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { makeDirs } from "./dirs";

/** A sibling of `folder` named like files.ts's temp files (dot-prefixed: run listings skip it;
 * `.tmp`: the stale-temp cleanup finds it after a crash). */
function siblingName(folder: string, tag: string): string {
  return path.join(path.dirname(folder), `.${path.basename(folder)}.${process.pid}.${randomBytes(4).toString("hex")}.${tag}`);
}

/** Whether `dir` exists and holds something (a file at `dir` counts as "holds something"). */
export async function folderHasContent(dir: string): Promise<boolean> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st) return false;
  if (!st.isDirectory()) return true;
  return (await fs.readdir(dir)).length > 0;
}

/**
 * Makes `folder` appear complete or not at all: `fill` writes into a temp folder beside it (same
 * filesystem, so the rename is atomic), which is then renamed to `folder`. On any error, the
 * temp folder is removed and `folder` is as it was. An existing non-empty `folder` is refused
 * unless `replace`; then the old one is moved aside, the new one renamed in, and the old one
 * removed (put back if the rename fails).
 */
export async function writeFolderAtomic(folder: string, fill: (tmp: string) => Promise<void>, opts: { replace?: boolean } = {}): Promise<void> {
  if (!opts.replace && (await folderHasContent(folder))) throw new Error(`${folder} already exists and is not empty`);
  await makeDirs(path.dirname(folder));
  const tmp = siblingName(folder, "tmp");
  await fs.mkdir(tmp);
  try {
    await fill(tmp);
    const existing = await fs.stat(folder).catch(() => undefined);
    if (!existing) {
      await fs.rename(tmp, folder);
      return;
    }
    if (!opts.replace && (await folderHasContent(folder))) throw new Error(`${folder} appeared while it was being written; left as it is`);
    const old = siblingName(folder, "old.tmp");
    await fs.rename(folder, old);
    try {
      await fs.rename(tmp, folder);
    } catch (e) {
      await fs.rename(old, folder);
      throw e;
    }
    await fs.rm(old, { recursive: true, force: true });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
