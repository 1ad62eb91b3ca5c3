import type { Command } from "commander";
import * as path from "node:path";
import { startDaemon } from "../../daemon/server";
import { engineModuleFromEnv } from "../../daemon/compute/loader";
import { isLogLevel, stderrLogger } from "../../daemon/logger";
import { isBackendRequest } from "../../core/backend/names";
import { version } from "../../../package.json";

interface DaemonOpts {
  stdio?: boolean;
  workspace: string;
  inProcess?: boolean;
  maxConcurrent: string;
  backend: string;
  logLevel: string;
}

export function registerDaemon(program: Command): void {
  program
    .command("daemon")
    .description("run the training daemon: JSON-RPC (LSP framing) on stdin/stdout, logs on stderr")
    .option("--stdio", "talk JSON-RPC over stdin/stdout (the only transport)")
    .option("--workspace <dir>", "workspace whose .hyperat/runs/ the daemon manages", process.cwd())
    .option("--in-process", "train in the daemon's own thread instead of a worker thread")
    .option("--max-concurrent <n>", "runs that train at the same time", "1")
    .option("--backend <name>", "auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu", "auto")
    .option("--log-level <level>", "debug | info | warn | error", "info")
    .action(async (opts: DaemonOpts) => {
      if (!opts.stdio) throw new Error("daemon: pass --stdio (JSON-RPC over stdin/stdout is the only transport)");
      if (!isBackendRequest(opts.backend)) throw new Error(`--backend: unknown backend "${opts.backend}"`);
      if (!isLogLevel(opts.logLevel)) throw new Error(`--log-level: must be debug, info, warn or error, got "${opts.logLevel}"`);
      const maxConcurrent = Number(opts.maxConcurrent);
      if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) throw new Error(`--max-concurrent: must be a positive integer, got "${opts.maxConcurrent}"`);
      // stdout is the JSON-RPC channel: anything a library prints goes to stderr instead.
      console.log = console.error;
      console.info = console.error;
      const daemon = startDaemon({
        workspace: path.resolve(opts.workspace),
        engineModule: engineModuleFromEnv(),
        useWorkers: !opts.inProcess,
        maxConcurrentRuns: maxConcurrent,
        backend: opts.backend,
        statusIntervalMs: 5000,
        log: stderrLogger(opts.logLevel),
        input: process.stdin,
        output: process.stdout,
        version,
      });
      for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => void daemon.stop(`received ${sig}`));
      await daemon.done;
      process.exit(daemon.exitCode());
    });
}
