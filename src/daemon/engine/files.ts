import * as fs from "node:fs/promises";
import * as path from "node:path";

/** Files in `dir` ending in `ext`, or [] when the folder does not exist. */
export async function listFiles(dir: string, ext: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith(ext)).map((n) => path.join(dir, n));
}
