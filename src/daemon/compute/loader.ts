// Which RunEngine the daemon drives. The real one is src/daemon/engine/hyperatEngine.ts; tests point
// HYPERAT_ENGINE (or the `engineModule` option) at a fake module that exports `createEngine()`.
import * as path from "node:path";
import { createRequire } from "node:module";
import type { RunEngine } from "./contract";

/** undefined = the built-in HyperAT engine; otherwise a module path exporting `createEngine()`. */
export type EngineModule = string | undefined;

export function engineModuleFromEnv(): EngineModule {
  const v = process.env.HYPERAT_ENGINE;
  return v ? path.resolve(v) : undefined;
}

/** Loads lazily so the daemon starts without tfjs until a config is read. */
export function loadEngine(module: EngineModule): RunEngine {
  if (module) {
    // Computed require so bundlers leave the test-only module alone. A test engine's config is
    // its own type (RunEngine<FakeConfig>); the daemon only stores it and hands it back (contract.ts).
    const mod = createRequire(__filename)(module) as { createEngine?: () => RunEngine };
    if (typeof mod.createEngine !== "function") throw new Error(`engine module ${module} does not export createEngine()`);
    return mod.createEngine();
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HyperatEngine } = require("../engine/hyperatEngine") as typeof import("../engine/hyperatEngine");
  return new HyperatEngine();
}
