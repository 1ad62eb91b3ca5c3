import type { BackendInfo } from "../backend/select";

/**
 * What the active backend can hold, as the memory planner (plan.ts) compares against it. The
 * figures come from ../../../../shared/recipes/compute-backends.md and docs/memory.md:
 * - wasm: the heap stops near 3.9 GiB, never shrinks, and corrupts existing tensors before it
 *   errors. Fragmentation makes a freed block unusable for a larger one, so the plan stays 18 %
 *   under the real ceiling (3.2 GiB), the margin that held in the ViT-B measurements.
 * - webgpu: 90 % of the GPU's available memory when its driver's tools report it (else 4 GiB, a
 *   conservative guess; software adapters: free RAM), and
 *   no single tensor over `maxBufferSize` / `maxStorageBufferBindingSize`.
 * - tensorflow / tensorflow-gpu / cpu: three quarters of the free RAM (tensors live in RAM).
 */
export interface MemoryLimit {
  backend: string;
  /** Bytes the plan's peak must stay under. */
  bytes: number;
  /** The largest single tensor (bytes) the device can hold, when it has such a limit. */
  maxTensorBytes?: number;
  /** Where the figure comes from, for messages. */
  source: string;
}

export const WASM_HEAP_CEILING_BYTES = 3.9 * 2 ** 30;
export const WASM_PLAN_BYTES = 3.2 * 2 ** 30;
const WEBGPU_UNKNOWN_MEMORY_BYTES = 4 * 2 ** 30;

/** The host facts a limit depends on (os.freemem() and os.totalmem() in the daemon). */
export interface HostMemory {
  freeBytes: number;
  totalBytes: number;
  /** A GPU's available memory when its driver's tools report it (WebGPU itself does not;
   * src/daemon/gpuMemory.ts asks nvidia-smi or amdgpu's sysfs), and where the figure came from. */
  gpuMemoryBytes?: number;
  gpuMemorySource?: string;
  /** The user's own limit (HYPERAT_MEMORY_LIMIT_GIB): a GPU whose adapter does not report its
   * memory, or a machine shared with other jobs. On wasm it can only lower the heap's limit. */
  userLimitBytes?: number;
}

export const MEMORY_LIMIT_ENV = "HYPERAT_MEMORY_LIMIT_GIB";

/** HYPERAT_MEMORY_LIMIT_GIB's value in bytes (undefined when unset); a bad value is an error naming it. */
export function parseMemoryLimitGiB(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const gib = Number(text);
  if (!Number.isFinite(gib) || gib <= 0) throw new Error(`${MEMORY_LIMIT_ENV}: expected a positive number of GiB (e.g. 70), got ${JSON.stringify(text)}`);
  return gib * 2 ** 30;
}

export function memoryLimit(backend: Pick<BackendInfo, "backend" | "gpu"> | string, host: HostMemory): MemoryLimit {
  const detected = detectedLimit(backend, host);
  const user = host.userLimitBytes;
  if (user === undefined || (detected.backend === "wasm" && user >= detected.bytes)) return detected;
  return { ...detected, bytes: user, source: `${MEMORY_LIMIT_ENV}=${+(user / 2 ** 30).toFixed(3)}` };
}

function detectedLimit(backend: Pick<BackendInfo, "backend" | "gpu"> | string, host: HostMemory): MemoryLimit {
  const info = typeof backend === "string" ? { backend } : backend;
  const name = info.backend;
  if (name === "wasm") {
    return { backend: name, bytes: WASM_PLAN_BYTES, source: `wasm heap (${(WASM_HEAP_CEILING_BYTES / 2 ** 30).toFixed(1)} GiB ceiling less room for fragmentation)` };
  }
  if (name === "webgpu") {
    const gpu = "gpu" in info ? info.gpu : undefined;
    const maxTensorBytes = gpu ? Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize) : undefined;
    if (host.gpuMemoryBytes) {
      return { backend: name, bytes: 0.9 * host.gpuMemoryBytes, maxTensorBytes, source: `90 % of the GPU's available memory${host.gpuMemorySource ? ` (${host.gpuMemorySource})` : ""}` };
    }
    // A software adapter (lavapipe) allocates in RAM; a hardware one's memory, when no driver tool told (src/daemon/gpuMemory.ts), is a guess.
    if (gpu?.software) return { backend: name, bytes: 0.75 * host.freeBytes, maxTensorBytes, source: "75 % of free RAM (software adapter)" };
    return { backend: name, bytes: WEBGPU_UNKNOWN_MEMORY_BYTES, maxTensorBytes, source: `4 GiB (WebGPU reports no memory size and neither nvidia-smi nor amdgpu sysfs answered; set ${MEMORY_LIMIT_ENV} to your GPU's GiB)` };
  }
  return { backend: name, bytes: 0.75 * host.freeBytes, source: "75 % of free RAM" };
}
