import type { Command } from "commander";
import * as os from "node:os";
import { describeBackend, selectBackend } from "../../core/backend/select";
import { isBackendRequest } from "../../core/backend/names";
import { memoryLimit } from "../../core/memory/limits";
import { hostMemoryFor } from "../../daemon/engine/memoryPlan";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description("show which compute backend loads, why others did not, and versions")
    .option("--backend <name>", "auto | tensorflow-gpu | webgpu | tensorflow | wasm | cpu", "auto")
    .option("--json", "print JSON")
    .action(async (opts: { backend: string; json?: boolean }) => {
      if (!isBackendRequest(opts.backend)) throw new Error(`--backend: unknown backend "${opts.backend}"`);
      const info = await selectBackend(opts.backend);
      // What the memory planner will compare plans against here (GPU memory from nvidia-smi or
      // amdgpu's sysfs on hardware webgpu adapters, src/daemon/gpuMemory.ts).
      const limit = memoryLimit(info, await hostMemoryFor(info));
      const report = {
        ...info,
        memoryLimit: limit,
        node: process.version,
        platform: `${os.platform()} ${os.arch()}`,
        cpus: os.cpus().length,
        memoryBytes: os.totalmem(),
      };
      if (opts.json) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      console.log(`backend:   ${info.backend} (requested ${info.requested})`);
      for (const a of info.attempts) console.log(`  ${a.ok ? "ok  " : "no  "} ${a.backend}${a.reason ? `: ${a.reason}` : ""}`);
      if (info.backend === "wasm") console.log(`wasm:      SIMD ${info.simd ? "yes" : "no"}, threads ${info.threads ? "yes" : "no"} (tfjs has no wasm threads in Node)`);
      if (info.backend !== "cpu") console.log(`compute:   ${describeBackend(info)}`);
      if (info.gpu) {
        const g = info.gpu;
        console.log(`gpu:       ${g.vendor || "?"} / ${g.architecture || "?"} / ${g.device || "?"} — ${g.description || "no description"}`);
        console.log(`           ${g.software ? "SOFTWARE adapter (a CPU rasteriser: correctness only, slower than wasm)" : "hardware adapter"}; ` +
          `maxBufferSize ${g.maxBufferSize} B, maxStorageBufferBindingSize ${g.maxStorageBufferBindingSize} B`);
      }
      if (info.gpuDeviceInUse !== undefined) console.log(`gpu:       libtensorflow GPU device ${info.gpuDeviceInUse ? "in use" : "NOT in use (runs on the CPU)"}`);
      console.log(`plans fit: ${(limit.bytes / 2 ** 30).toFixed(1)} GiB, ${limit.source}` +
        (limit.maxTensorBytes ? `; no tensor over ${(limit.maxTensorBytes / 2 ** 20).toFixed(0)} MiB` : ""));
      console.log(`tfjs:      ${info.tfjsVersion}`);
      console.log(`node:      ${process.version} on ${report.platform}, ${report.cpus} CPUs, ${(report.memoryBytes / 2 ** 30).toFixed(1)} GiB`);
    });
}
