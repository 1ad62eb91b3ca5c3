import * as path from "node:path";
import { createRequire } from "node:module";

/**
 * How to start a worker_threads entry point: the esbuild bundle `dist/<bundle>` next to the
 * running bundle, or — when running from sources under tsx (tests, development) — the .ts file
 * through tsx's CommonJS register hook.
 */
export function workerScript(dirOfCaller: string, fileOfCaller: string, tsFile: string, bundle: string): { script: string; eval: boolean } {
  if (fileOfCaller.endsWith(".ts")) {
    const tsx = createRequire(fileOfCaller).resolve("tsx/cjs/api");
    const src = path.join(dirOfCaller, tsFile);
    return { script: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(src)});`, eval: true };
  }
  return { script: path.join(dirOfCaller, bundle), eval: false };
}
